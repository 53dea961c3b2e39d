// One access-log line per finished request, on the logger's destination (stdout).
//
// Formats (logging.access_log.format):
//   json      the shape pino writes, one object per line:
//             {"level":30,"time":"…","service":"loom","msg":"request","request_id","method",
//              "path","host","route","upstream","endpoint","status","duration_ms","bytes",
//              "tries","client_ip","user_agent","error"[,"trace_id"]}
//   combined  Apache/nginx combined log format, then Loom's fields as key=value:
//             ip - - [02/Dec/2026:11:33:10 +0000] "GET /a?b HTTP/1.1" 200 12 "referer" "ua"
//               request_id=… route=… upstream=… endpoint=… duration_ms=… tries=… error=… [trace_id=…]
// Sampling: `sample_ratio` of requests are logged; with `always_log_errors` every 5xx
// answer and every request that failed upstream is logged too. Nothing is written below
// info level.
//
// Written by hand to the logger's destination rather than through `logger.info`: on the
// hot path pino's generic serialisation (asJson + an ISO timestamp per line) cost ~5% of
// small-request throughput in a CPU profile; this builds one string with a timestamp
// cached per millisecond (per second for `combined`) and escapes only strings that need it.
//
// With `batchBytes` (the `loom` command sets it), lines are gathered here and handed to
// the destination in batches, at the latest `BATCH_FLUSH_MS` after the first line of a
// batch: sonic-boom measures the byte length of its whole pending buffer on every write,
// which made one write per request cost ~15% of small-request throughput (measured
// against -log-level warn). Without it (tests, embedders) every line is written at once.
import pino, { type Logger } from 'pino';
import type { AccessLogConfig } from '../config/types.js';
import type { ProxyExchange } from '../proxy/proxy-exchange.js';

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

/** Characters escaped as \xHH in the combined format (as nginx does); a space too in bare fields. */
const QUOTED_ESCAPE = /["\\\u0000-\u001f\u007f]/;
const BARE_ESCAPE = /["\\\u0000-\u0020\u007f]/;

function escapeBytes(value: string, pattern: RegExp): string {
  return value.replace(new RegExp(pattern.source, 'g'), (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A quoted combined-format field: `"-"` when absent. */
function quoted(value: string | undefined): string {
  if (value === undefined || value === '') return '"-"';
  return QUOTED_ESCAPE.test(value) ? `"${escapeBytes(value, QUOTED_ESCAPE)}"` : `"${value}"`;
}

/** A bare `key=value` field: `-` when absent. */
function bare(value: string | undefined | null): string {
  if (value === undefined || value === null || value === '') return '-';
  return BARE_ESCAPE.test(value) ? escapeBytes(value, BARE_ESCAPE) : value;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `02/Dec/2026:11:33:10 +0000` (UTC). */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** A batch is handed on at the latest this long after its first line. */
export const BATCH_FLUSH_MS = 200;

export const DEFAULT_ACCESS_LOG: AccessLogConfig = { enabled: true, format: 'json', sample_ratio: 1, always_log_errors: true };

export interface AccessLogOptions {
  /** Gather lines up to about this many characters before writing; 0 (default) writes each line. */
  readonly batchBytes?: number;
  /** For sampling; default Math.random. */
  readonly random?: () => number;
}

export class AccessLog {
  private readonly sink: LineSink;
  private readonly levelEnabled: boolean;
  private readonly batchBytes: number;
  private readonly random: () => number;
  private config: AccessLogConfig = DEFAULT_ACCESS_LOG;
  /** Cached from config: write anything at all. */
  private on: boolean;
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  /** `"level":30,"time":` is followed by the timestamp, then these bindings (`,"service":"loom"`). */
  private readonly bindings: string;
  private lastMs = 0;
  private lastTime = '';
  private lastSecond = 0;
  private lastClfTime = '';

  constructor(logger: Logger, options: AccessLogOptions = {}) {
    this.batchBytes = options.batchBytes ?? 0;
    this.random = options.random ?? Math.random;
    this.sink = (logger as unknown as Record<symbol, LineSink>)[pino.symbols.streamSym];
    this.levelEnabled = logger.isLevelEnabled('info');
    this.on = this.levelEnabled;
    const bound = JSON.stringify(logger.bindings());
    this.bindings = bound === '{}' ? '' : `,${bound.slice(1, -1)}`;
  }

  /** Applies `logging.access_log` (at start and on every reload). */
  configure(config: AccessLogConfig): void {
    this.config = config;
    this.on = this.levelEnabled && config.enabled && (config.sample_ratio > 0 || config.always_log_errors);
  }

  private time(): string {
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastTime = `"${new Date(now).toISOString()}"`;
    }
    return this.lastTime;
  }

  private clfNow(): string {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.lastSecond) {
      this.lastSecond = second;
      this.lastClfTime = clfTime(second * 1000);
    }
    return this.lastClfTime;
  }

  /** Hot path. */
  onExchangeEnd(x: ProxyExchange): void {
    if (!this.on) return;
    const c = this.config;
    if (c.sample_ratio < 1 && !(c.sample_ratio > 0 && this.random() < c.sample_ratio)) {
      if (!c.always_log_errors || (x.status < 500 && (x.error === null || x.error.status < 500))) return;
    }
    this.write(c.format === 'json' ? this.jsonLine(x) : this.combinedLine(x));
  }

  private jsonLine(x: ProxyExchange): string {
    const duration = Math.round(x.durationMs * 1000) / 1000;
    const h = x.req.headers;
    const trace = x.trace === null ? '' : `,"trace_id":"${x.trace.traceId}"`;
    return `{"level":30,"time":${this.time()}${this.bindings},"msg":"request","request_id":${jsonString(x.requestId)},"method":${jsonOrNull(x.req.method)},"path":${jsonString(x.path)},"host":${jsonOrNull(h.host)},"route":${jsonOrNull(x.route?.id)},"upstream":${jsonOrNull(x.group?.name)},"endpoint":${jsonOrNull(x.endpoint?.address)},"status":${x.status},"duration_ms":${duration},"bytes":${x.bytes},"tries":${x.tries},"client_ip":${jsonString(x.clientIp)},"user_agent":${jsonOrNull(h['user-agent'])},"error":${jsonOrNull(x.error?.code)}${trace}}\n`;
  }

  private combinedLine(x: ProxyExchange): string {
    const duration = Math.round(x.durationMs * 1000) / 1000;
    const req = x.req;
    const h = req.headers;
    const requestLine = `${req.method ?? '-'} ${req.url ?? '-'} HTTP/${req.httpVersion ?? '1.1'}`;
    const trace = x.trace === null ? '' : ` trace_id=${x.trace.traceId}`;
    return `${x.clientIp || '-'} - - [${this.clfNow()}] ${quoted(requestLine)} ${x.status} ${x.bytes} ${quoted(h.referer)} ${quoted(h['user-agent'])} request_id=${bare(x.requestId)} route=${bare(x.route?.id)} upstream=${bare(x.group?.name)} endpoint=${bare(x.endpoint?.address)} duration_ms=${duration} tries=${x.tries} error=${bare(x.error?.code)}${trace}\n`;
  }

  private write(line: string): void {
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
