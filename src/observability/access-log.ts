// One access-log line per finished request, in the same JSON shape pino writes:
//   {"level":30,"time":"…","service":"loom","msg":"request","request_id","method","path",
//    "route","upstream","endpoint","status","duration_ms","bytes","tries","client_ip","error"}
// Skipped entirely below info level.
//
// Written by hand to the logger's own destination rather than through `logger.info`:
// on the hot path pino's generic serialisation (asJson + an ISO timestamp per line) cost
// ~5% of small-request throughput in a CPU profile; this builds one string with a
// timestamp cached per millisecond and escapes only strings that need it.
//
// With `batchBytes` (the `loom` command sets it), lines are gathered here and handed to
// the destination in batches, at the latest `BATCH_FLUSH_MS` after the first line of a
// batch: sonic-boom measures the byte length of its whole pending buffer on every write,
// which made one write per request cost ~15% of small-request throughput (measured
// against -log-level warn). Without it (tests, embedders) every line is written at once.
import pino, { type Logger } from 'pino';
import type { ExchangeObserver, ProxyExchange } from '../proxy/proxy-exchange.js';

interface LineSink {
  write(line: string): unknown;
}

/** Characters that force JSON escaping of a string value. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029]/;

export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function jsonOrNull(value: string | undefined | null): string {
  return value === undefined || value === null ? 'null' : jsonString(value);
}

/** A batch is handed on at the latest this long after its first line. */
export const BATCH_FLUSH_MS = 200;

export interface AccessLogOptions {
  /** Gather lines up to about this many characters before writing; 0 (default) writes each line. */
  readonly batchBytes?: number;
}

export class AccessLog implements ExchangeObserver {
  private readonly sink: LineSink;
  private readonly enabled: boolean;
  private readonly batchBytes: number;
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  /** `"level":30,"time":` is followed by the timestamp, then these bindings (`,"service":"loom"`). */
  private readonly bindings: string;
  private lastMs = 0;
  private lastTime = '';

  constructor(logger: Logger, options: AccessLogOptions = {}) {
    this.batchBytes = options.batchBytes ?? 0;
    this.sink = (logger as unknown as Record<symbol, LineSink>)[pino.symbols.streamSym];
    this.enabled = logger.isLevelEnabled('info');
    const bound = JSON.stringify(logger.bindings());
    this.bindings = bound === '{}' ? '' : `,${bound.slice(1, -1)}`;
  }

  private time(): string {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastTime = `"${new Date(now).toISOString()}"`;
    }
    return this.lastTime;
  }

  /** Hot path. */
  onExchangeEnd(x: ProxyExchange): void {
    if (!this.enabled) return;
    const duration = Math.round(x.elapsed() * 1000) / 1000;
    const line = `{"level":30,"time":${this.time()}${this.bindings},"msg":"request","request_id":${jsonString(x.requestId)},"method":${jsonOrNull(x.req.method)},"path":${jsonString(x.path)},"route":${jsonOrNull(x.route?.id)},"upstream":${jsonOrNull(x.group?.name)},"endpoint":${jsonOrNull(x.endpoint?.address)},"status":${x.status},"duration_ms":${duration},"bytes":${x.bytes},"tries":${x.tries},"client_ip":${jsonString(x.clientIp)},"error":${jsonOrNull(x.error?.code)}}\n`;
    if (this.batchBytes === 0) {
      this.sink.write(line);
      return;
    }
    this.pending += line;
    if (this.pending.length >= this.batchBytes) this.flush();
    else if (this.timer === null) this.timer = setTimeout(flushAccessLog, BATCH_FLUSH_MS, this).unref();
  }

  /** Hands any gathered lines to the destination (the `loom` command calls it before exit). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending === '') return;
    const batch = this.pending;
    this.pending = '';
    this.sink.write(batch);
  }
}

function flushAccessLog(log: AccessLog): void {
  log.flush();
}
