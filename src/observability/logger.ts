// Structured logs with pino. JSON by default (one object per line on stdout); `pretty`
// renders them for people with pino-pretty in the main thread (slower: not for production).
// Writes are asynchronous and batched (see below) and flushed on exit.
import pino, { type Logger } from 'pino';
import { createRequire } from 'node:module';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** File descriptor or path; default 1 (stdout). */
  readonly destination?: number | string;
  /** Synchronous writes (tests, CLI one-shots). Default false. */
  readonly sync?: boolean;
}

export type { Logger };

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { service: 'loom' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (options.format === 'pretty') {
    // Loaded only when asked for: pino-pretty costs ~100 ms of start-up.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return pino(base, pretty({ colorize: process.stdout.isTTY === true, destination: options.destination ?? 1, sync: true }));
  }
  const sync = options.sync ?? false;
  // Asynchronous mode: sonic-boom writes whatever is pending whenever no write is in
  // flight. The access log hands it lines in batches (see access-log.ts), so a busy
  // gateway makes few, large writes. `flush()` on shutdown writes the remainder.
  return pino(
    base,
    pino.destination(sync ? { dest: options.destination ?? 1, sync: true } : { dest: options.destination ?? 1, sync: false }),
  );
}

/** A logger that drops everything (tests and embedders that bring no logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
