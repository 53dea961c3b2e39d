// Runs the real `loom` CLI (dist/src/main.js) as a child process, for tests of the
// binary itself: flags, exit codes, signals, and memory measured on its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from './paths.js';
import { withTestAdmin } from './test-admin.js';

export const LOOM_BIN = fromRoot('dist', 'src', 'main.js');

export interface LoomProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Peak resident set size of the process so far, in bytes (VmHWM). */
  peakRss(): number;
  /**
   * Resolves with the first log line from index `from` on that satisfies `match`; rejects
   * after `timeoutMs` (default 60 s) with the last lines, so a missing line fails with
   * context instead of holding the test until the runner's timeout.
   */
  waitForLine(match: (line: Record<string, unknown>) => boolean, from?: number, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** `state R, cpu 1234 ticks` from /proc (Linux), for failure messages. */
function processState(pid: number | undefined): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `pid ${pid} state ${fields[0]}, cpu ${Number(fields[11]) + Number(fields[12])} ticks`;
  } catch {
    return `pid ${pid} gone`;
  }
}

export function writeTempConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'loom-test-'));
  const file = join(dir, 'loom.yaml');
  writeFileSync(file, withTestAdmin(yaml));
  return file;
}

/** Starts `loom -config FILE` and resolves once it logged "loom started" (with its port): needs log level info or lower. */
export function startLoomProcess(configFile: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<LoomProcess> {
  const child = spawn(process.execPath, [LOOM_BIN, '-config', configFile, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<{ match: (l: Record<string, unknown>) => boolean; from: number; resolve: (l: Record<string, unknown>) => void }>();
  const waitForLine = (match: (l: Record<string, unknown>) => boolean, from = 0, timeoutMs = 60_000): Promise<Record<string, unknown>> => {
    for (let i = from; i < lines.length; i++) if (match(lines[i])) return Promise.resolve(lines[i]);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        from,
        resolve: (line: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        const tail = lines.slice(-5).map((l) => JSON.stringify(l)).join('\n');
        reject(new Error(`no matching log line within ${timeoutMs} ms (from line ${from} of ${lines.length}); process: ${processState(child.pid)}; last lines:\n${tail}\nstderr: ${err.slice(-500)}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (c: Buffer) => {
      buffered += c.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const obj = JSON.parse(line) as Record<string, unknown>;
        lines.push(obj);
        for (const w of waiters) {
          if (lines.length - 1 >= w.from && w.match(obj)) {
            waiters.delete(w);
            w.resolve(obj);
          }
        }
        if (obj.msg === 'loom started') {
          const listeners = obj.listeners as Record<string, { port: number }>;
          const port = Object.values(listeners)[0].port;
          resolve({
            child,
            port,
            lines,
            stderr: () => err,
            exited,
            waitForLine,
            peakRss: () => {
              const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
              const m = /VmHWM:\s+(\d+) kB/.exec(status);
              return m ? Number(m[1]) * 1024 : 0;
            },
          });
        }
      }
    });
    void exited.then((code) => reject(new Error(`loom exited with ${code} before starting: ${err}`)));
  });
}
