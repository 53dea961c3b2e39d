// Starts a real Gateway in this process from YAML text, on 127.0.0.1:0, and gives back
// its port and the log lines it wrote (JSON objects), so tests can assert on both.
import { Writable } from 'node:stream';
import pino from 'pino';
import { Gateway } from '../../src/gateway.js';
import { loadConfigText } from '../../src/config/load.js';
import { formatConfigErrors } from '../../src/config/format-errors.js';
import { withTestAdmin } from './test-admin.js';

export interface RunningGateway {
  readonly gateway: Gateway;
  readonly port: number;
  readonly url: string;
  readonly logs: Record<string, unknown>[];
  /** Resolves with the first log line (from index `from` on) that satisfies `match`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, from?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly level?: 'debug' | 'info' | 'warn' | 'error';
  readonly random?: () => number;
  readonly env?: Record<string, string | undefined>;
  readonly listenerLimits?: import('../../src/listener/http-listener.js').ListenerLimits;
}

export async function startGateway(yaml: string, options: StartOptions = {}): Promise<RunningGateway> {
  const result = await loadConfigText(withTestAdmin(yaml), 'test.yaml', options.env ?? {});
  if (!result.ok) throw new Error(`test config invalid:\n${formatConfigErrors(result.errors)}`);
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }>();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        const obj = JSON.parse(line) as Record<string, unknown>;
        logs.push(obj);
        for (const w of waiters) {
          if (w.match(obj)) {
            waiters.delete(w);
            w.resolve(obj);
          }
        }
      }
      done();
    },
  });
  const waitForLog = (match: (l: Record<string, unknown>) => boolean, from = 0): Promise<Record<string, unknown>> => {
    for (let i = from; i < logs.length; i++) if (match(logs[i])) return Promise.resolve(logs[i]);
    return new Promise((resolve) => waiters.add({ match, resolve }));
  };
  const logger = pino({ level: options.level ?? 'info' }, sink);
  const gateway = new Gateway({ logger, random: options.random, listenerLimits: options.listenerLimits });
  await gateway.start(result.config);
  const port = gateway.port(result.config.listeners[0].name);
  return { gateway, port, url: `http://127.0.0.1:${port}`, logs, waitForLog, stop: () => gateway.stop(5_000) };
}

/** A minimal config around some routes/upstreams YAML (listener on 127.0.0.1:0). */
export function configWith(body: string): string {
  return `listeners:\n  - name: http\n    address: "127.0.0.1:0"\n    protocol: http\n${body}`;
}
