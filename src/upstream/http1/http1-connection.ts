// One keep-alive HTTP/1.1 connection to an upstream endpoint, one request at a time
// (requests dispatched while it is busy wait in order). Reconnects on the next request
// after the upstream closes it, like an undici Client with pipelining 1.
//
// Why not undici here: this is the response-streaming hot path. undici's socket reads
// allocate a new 64 KiB ArrayBuffer each (external memory that drives V8 into a full GC
// every ~64 MB moved) and copy every byte into llhttp's Wasm memory. Measured 2026-12-02
// (1 MiB responses, 50 connections, one core): a minimal node:http + undici Client proxy
// moved 720-850 MiB/s with 23% of its CPU in GC; the same proxy reading the upstream
// socket with `onread` into reused buffers moved 920-1,340 MiB/s with 3% in GC. Here the
// socket reads into a small ring of buffers; a buffer is reused once every write of its
// bytes to the client has completed (the handler calls `flushed`), so a steady stream
// allocates nothing. undici stays in use for active health checks.
//
// Timeouts: connect; headers (from the last request byte written to the response head);
// body idle (no byte from the upstream while the handler wants more); keep-alive idle
// (the shorter of ours and the upstream's `Keep-Alive: timeout` hint less one second).
import net from 'node:net';
import type { Readable } from 'node:stream';
import { ResponseParser, type ResponseSink } from './response-parser.js';
import { Http1Error } from './http1-error.js';

export interface Http1Request {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Flat [name, value, …]; Host is added when missing, and the body's framing headers. */
  readonly headers: readonly string[];
  /** null: no body; a Buffer is sent with Content-Length; a stream with its Content-Length or chunked (with its trailers). */
  readonly body: Buffer | Readable | null;
  readonly headersTimeout: number;
}

export interface Http1Handler {
  /** The request is about to be written (or waits for the connection); `abort` cancels it. */
  onConnect(abort: (err?: Error) => void): void;
  /** The final response head. false: stop reading until `resume`. */
  onHeaders(status: number, headers: string[], resume: () => void, statusText: string): boolean;
  /**
   * A view of a read buffer. The handler calls `flushed` once it no longer references
   * the chunk (e.g. as the callback of the write that sends it on). false: stop reading
   * until `resume`.
   */
  onData(chunk: Buffer, flushed: () => void): boolean;
  onComplete(trailers: string[] | null): void;
  /** Called at most once, and after onComplete only when onComplete threw. */
  onError(err: Error): void;
}

export interface Http1ConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** `host:port`, sent as Host when the request has none. */
  readonly authority: string;
  readonly connectTimeout: number;
  /** Body idle timeout, ms (0: none). */
  readonly bodyTimeout: number;
  /** Idle keep-alive connections are closed after this, ms. */
  readonly keepAliveTimeout: number;
}

const READ_BUFFER_SIZE = 64 * 1024;
/**
 * Read buffers per open connection while a response streams (two while idle, none once
 * closed): up to 256 KiB, the same as the exchange's RESPONSE_BUFFER_LIMIT. When all are
 * still referenced a fresh one replaces one.
 */
const MAX_READ_BUFFERS = 4;
const IDLE_READ_BUFFERS = 2;
const KEEP_ALIVE_HINT_MARGIN = 1000;
/** Handed to a socket that was destroyed during its read callback (it reads nothing more). */
const DETACHED_READ_BUFFER = Buffer.alloc(64);
const EXPECTS_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'QUERY']);

class ReadBuffer {
  readonly buf = Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  /** Writes of this buffer's bytes not yet completed. */
  pending = 0;
  readonly flushed = (): void => {
    this.pending--;
  };
}

class PendingRequest {
  readonly req: Http1Request;
  readonly handler: Http1Handler;
  readonly conn: Http1Connection;
  done = false;
  /** The request body has been written completely. */
  bodySent = false;
  chunked = false;
  bodyListeners: { data: (c: Buffer) => void; end: () => void; error: (e: Error) => void } | null = null;
  readonly abort = (err?: Error): void => this.conn.abortRequest(this, err);
  readonly resume = (): void => this.conn.resumeRequest(this);

  constructor(conn: Http1Connection, req: Http1Request, handler: Http1Handler) {
    this.conn = conn;
    this.req = req;
    this.handler = handler;
  }
}

const enum TimerKind {
  None,
  Connect,
  Headers,
  KeepAlive,
}

export class Http1Connection implements ResponseSink {
  private readonly options: Http1ConnectionOptions;
  private socket: net.Socket | null = null;
  private isConnected = false;
  private current: PendingRequest | null = null;
  private readonly queue: PendingRequest[] = [];
  private readonly parser = new ResponseParser();
  private readonly ring: ReadBuffer[] = [];
  private ringNext = 0;
  /** The buffer the socket reads into next. */
  private readBuffer: ReadBuffer | null = null;
  /** The buffer being parsed (body views come from it). */
  private parsing: ReadBuffer | null = null;
  /** Unparsed bytes left when the handler paused. */
  private parkedBuffer: ReadBuffer | null = null;
  private parkedPos = 0;
  private parkedEnd = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerKind = TimerKind.None;
  private closing: (() => void) | null = null;
  private closed = false;

  constructor(options: Http1ConnectionOptions) {
    this.options = options;
  }

  /** The TCP connection is established. */
  get connected(): boolean {
    return this.isConnected;
  }

  /**
   * Starts the request now (callbacks may run before this returns) or queues it behind the
   * current one. The caller must be ready for any callback, onError included, when it calls.
   */
  dispatch(req: Http1Request, handler: Http1Handler): void {
    const p = new PendingRequest(this, req, handler);
    if (this.closed) this.failRequest(p, new Http1Error('LOOM_H1_CLOSED', 'the connection pool is closed'));
    else if (this.current === null) this.begin(p);
    else this.queue.push(p);
  }

  /** Graceful: lets the current and queued requests finish, then closes. */
  close(): Promise<void> {
    this.closed = true;
    if (this.current === null) {
      this.destroySocket();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.closing = resolve;
    });
  }

  /** Forced: fails whatever is in flight or queued. */
  destroy(): Promise<void> {
    this.closed = true;
    const err = new Http1Error('LOOM_H1_CLOSED', 'the connection pool was destroyed');
    for (const p of this.queue.splice(0)) this.failRequest(p, err);
    this.fail(err);
    this.settleClose();
    return Promise.resolve();
  }

  // --- request lifecycle ---

  private begin(p: PendingRequest): void {
    this.current = p;
    this.parser.start(this, p.req.method === 'HEAD');
    try {
      p.handler.onConnect(p.abort);
    } catch (err) {
      this.abortRequest(p, err as Error);
    }
    if (p.done) return; // aborted by onConnect
    if (this.socket === null) this.connect();
    else if (this.isConnected) this.send(p);
  }

  private send(p: PendingRequest): void {
    const socket = this.socket!;
    const { req } = p;
    let head: string;
    try {
      head = this.requestHead(p);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.clearTimer();
    const body = req.body;
    if (body === null) {
      socket.write(head, 'latin1');
      p.bodySent = true;
    } else if (Buffer.isBuffer(body)) {
      socket.cork();
      socket.write(head, 'latin1');
      socket.write(body);
      socket.uncork();
      p.bodySent = true;
    } else {
      socket.write(head, 'latin1');
      this.streamBody(p, body);
    }
    this.setTimer(TimerKind.Headers, req.headersTimeout);
  }

  /** The request line and headers. Throws on a header that cannot be sent (CR/LF). */
  private requestHead(p: PendingRequest): string {
    const { method, path, headers, body } = p.req;
    let head = `${method} ${path} HTTP/1.1\r\n`;
    let hasHost = false;
    let hasLength = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const value = headers[i + 1];
      if (value.includes('\r') || value.includes('\n') || name.includes('\r') || name.includes('\n')) {
        throw new Http1Error('LOOM_H1_INVALID_HEADER', `header "${name}" cannot be forwarded`);
      }
      if (name.length === 4 && name.toLowerCase() === 'host') hasHost = true;
      else if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
      head += `${name}: ${value}\r\n`;
    }
    if (!hasHost) head += `host: ${this.options.authority}\r\n`;
    if (body === null) {
      if (!hasLength && EXPECTS_BODY.has(method)) head += 'content-length: 0\r\n';
    } else if (Buffer.isBuffer(body)) {
      if (!hasLength) head += `content-length: ${body.length}\r\n`;
    } else if (!hasLength) {
      head += 'transfer-encoding: chunked\r\n';
      p.chunked = true;
    }
    return head + '\r\n';
  }

  /** Streams a request body with backpressure: the body is paused while the socket is full. */
  private streamBody(p: PendingRequest, body: Readable): void {
    const socket = this.socket!;
    const listeners = {
      data: (chunk: Buffer): void => {
        if (p.done || this.socket !== socket) return;
        let ok: boolean;
        if (p.chunked) {
          if (chunk.length === 0) return;
          socket.cork();
          socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
          socket.write(chunk);
          ok = socket.write('\r\n', 'latin1');
          socket.uncork();
        } else ok = socket.write(chunk);
        if (this.timerKind === TimerKind.Headers) this.timer!.refresh();
        if (!ok) {
          body.pause();
          socket.once('drain', () => {
            if (!p.done) body.resume();
          });
        }
      },
      end: (): void => {
        if (p.done || this.socket !== socket) return;
        if (p.chunked) socket.write(`0\r\n${trailerLines(body)}\r\n`, 'latin1');
        p.bodySent = true;
        this.detachBody(p);
        if (this.timerKind === TimerKind.Headers) this.timer!.refresh();
      },
      error: (err: Error): void => this.abortRequest(p, err),
    };
    p.bodyListeners = listeners;
    body.on('data', listeners.data);
    body.on('end', listeners.end);
    body.on('error', listeners.error);
  }

  /** Stops sending a stream body; an unfinished one is resumed so its rest is read and dropped. */
  private detachBody(p: PendingRequest): void {
    const l = p.bodyListeners;
    if (l === null) return;
    p.bodyListeners = null;
    const body = p.req.body as Readable;
    body.off('data', l.data);
    body.off('end', l.end);
    body.off('error', l.error);
    if (!p.bodySent) body.resume();
  }

  abortRequest(p: PendingRequest, err: Error | undefined): void {
    if (p.done) return;
    const reason = err ?? new Http1Error('LOOM_H1_ABORTED', 'request aborted');
    if (p === this.current) this.fail(reason);
    else {
      const i = this.queue.indexOf(p);
      if (i >= 0) this.queue.splice(i, 1);
      this.failRequest(p, reason);
    }
  }

  resumeRequest(p: PendingRequest): void {
    if (p !== this.current || p.done) return;
    const parked = this.parkedBuffer;
    if (parked !== null) {
      this.parkedBuffer = null;
      // The rest of the parked read may finish the response; reading resumes either way.
      if (!this.feed(parked, this.parkedPos, this.parkedEnd)) return;
    }
    const socket = this.socket;
    if (socket === null || !this.isConnected) return;
    // The idle timer may have fired (ignored) while paused; re-arm it before waiting for bytes.
    if (this.current !== null && this.options.bodyTimeout > 0) socket.setTimeout(this.options.bodyTimeout);
    socket.resume();
  }

  // --- ResponseSink (called from inside parser.execute) ---

  onHead(status: number, statusText: string, headers: string[]): boolean {
    this.clearTimer();
    const p = this.current!;
    return p.handler.onHeaders(status, headers, p.resume, statusText);
  }

  onBody(chunk: Buffer): boolean {
    const b = this.parsing!;
    b.pending++;
    return this.current!.handler.onData(chunk, b.flushed);
  }

  // --- socket ---

  private connect(): void {
    // Before net.connect: the socket asks for its first read buffer as its handle is created.
    this.readBuffer ??= this.takeBuffer(null);
    const socket: net.Socket = net.connect({
      host: this.options.host,
      port: this.options.port,
      noDelay: true,
      onread: { buffer: () => this.readBuffer?.buf ?? DETACHED_READ_BUFFER, callback: (n: number): boolean => this.onRead(socket, n) },
    });
    this.socket = socket;
    this.isConnected = false;
    this.setTimer(TimerKind.Connect, this.options.connectTimeout);
    // The body idle timer stays armed for the socket's life (Node refreshes it on every read
    // and write, which also re-arms it after it fired); 'timeout' counts only while the
    // upstream owes body bytes and Loom is not the one holding them up.
    if (this.options.bodyTimeout > 0) socket.setTimeout(this.options.bodyTimeout);
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.isConnected = true;
      this.clearTimer();
      if (this.current !== null && !this.current.done) this.send(this.current);
      else this.idle();
    });
    socket.on('error', (err: Error) => {
      if (this.socket === socket) this.fail(err);
    });
    socket.on('timeout', () => {
      if (this.socket === socket && this.current !== null && this.parser.inBody && this.parkedBuffer === null) {
        this.fail(new Http1Error('LOOM_H1_BODY_TIMEOUT', 'the upstream stalled while sending the body'));
      }
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.isConnected = false;
      const p = this.current;
      const parked = this.parkedBuffer !== null;
      this.dropBuffers();
      if (p === null || p.done) return;
      // A close-delimited body ends here, unless unparsed bytes were still parked (a reset).
      if (!parked && this.parser.finishAtClose()) {
        p.bodySent = true; // the connection is gone either way
        this.finishResponse();
        return;
      }
      this.fail(new Http1Error('LOOM_H1_SOCKET_CLOSED', 'the upstream closed the connection'));
    });
  }

  /** onread callback: parses what was read; returns false to stop reading. */
  private onRead(socket: net.Socket, n: number): boolean {
    if (this.socket !== socket) return false;
    const b = this.readBuffer!;
    if (this.current === null) {
      // Bytes while no request is in flight: nothing may follow; drop the connection.
      this.destroySocket();
      return false;
    }
    const goOn = this.feed(b, 0, n);
    // The next read must not land on bytes still referenced (by writes in flight or by the parked rest).
    if (b.pending > 0 || this.parkedBuffer === b) this.readBuffer = this.takeBuffer(b);
    return goOn && this.socket === socket;
  }

  /** Parses buf[pos, end) into the current request; false when reading must stop. */
  private feed(b: ReadBuffer, pos: number, end: number): boolean {
    this.parsing = b;
    let stop: number;
    try {
      stop = this.parser.execute(b.buf, pos, end);
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    if (this.parser.done) {
      // Bytes after the end of the response: the connection cannot be trusted again.
      if (stop < end) this.parser.keepAlive = false;
      this.finishResponse();
      // Keep reading while idle, to notice the upstream closing the connection.
      return this.socket !== null;
    }
    if (this.parser.paused) {
      this.parkedBuffer = b;
      this.parkedPos = stop;
      this.parkedEnd = end;
      return false;
    }
    return true;
  }

  /** A free read buffer other than `not` (the ring grows to MAX_READ_BUFFERS, then a referenced one is replaced). */
  private takeBuffer(not: ReadBuffer | null): ReadBuffer {
    for (const b of this.ring) if (b !== not && b.pending === 0 && b !== this.parkedBuffer) return b;
    const fresh = new ReadBuffer();
    if (this.ring.length < MAX_READ_BUFFERS) this.ring.push(fresh);
    else {
      // Every buffer is still referenced (a slow client): drop one from the ring; the
      // writes that reference it keep it alive until they complete.
      let i = this.ringNext;
      while (this.ring[i] === not || this.ring[i] === this.parkedBuffer) i = (i + 1) % MAX_READ_BUFFERS;
      this.ring[i] = fresh;
      this.ringNext = (i + 1) % MAX_READ_BUFFERS;
    }
    return fresh;
  }

  private finishResponse(): void {
    const p = this.current!;
    // Answered before the whole request body was sent (an early 413, say): the upstream
    // connection is mid-request, so it cannot carry another one.
    if (!p.bodySent) this.parser.keepAlive = false;
    this.completeRequest(p);
    if (!this.parser.keepAlive) this.destroySocket();
    else this.idle();
    this.next();
  }

  private completeRequest(p: PendingRequest): void {
    this.current = null;
    p.done = true;
    this.detachBody(p);
    this.parkedBuffer = null;
    // An idle connection keeps two buffers: the one its socket reads into next and one more,
    // which is what a stream to a client that keeps up alternates between. Beyond that the
    // ring grows again only when a client falls behind.
    if (this.ring.length > IDLE_READ_BUFFERS && this.readBuffer !== null) {
      const next = this.readBuffer;
      const spare = this.ring.find((b) => b !== next && b.pending === 0);
      this.ring.length = 0;
      this.ring.push(next);
      if (spare !== undefined) this.ring.push(spare);
      this.ringNext = 0;
    }
    this.clearTimer();
    try {
      p.handler.onComplete(this.parser.trailers);
    } catch (err) {
      // The handler could not finish its side (it runs outside the parser's try): report
      // it as this request's failure instead of letting it escape the socket callback.
      this.parser.keepAlive = false;
      p.handler.onError(err as Error);
    }
  }

  private next(): void {
    const p = this.queue.shift();
    if (p !== undefined) this.begin(p);
    else if (this.closed) {
      this.destroySocket();
      this.settleClose();
    }
  }

  /** Keep-alive: arms the idle timer. */
  private idle(): void {
    if (this.current !== null || this.socket === null) return;
    const hint = this.parser.keepAliveHint;
    const t = hint > 0 ? Math.min(this.options.keepAliveTimeout, hint - KEEP_ALIVE_HINT_MARGIN) : this.options.keepAliveTimeout;
    if (t <= 0) this.destroySocket();
    else this.setTimer(TimerKind.KeepAlive, t);
  }

  /** The current request failed: the connection is dropped (its state is unknown). */
  private fail(err: Error): void {
    this.destroySocket();
    const p = this.current;
    this.current = null;
    this.parkedBuffer = null;
    if (p !== null) this.failRequest(p, err);
    this.next();
  }

  private failRequest(p: PendingRequest, err: Error): void {
    if (p.done) return;
    p.done = true;
    this.detachBody(p);
    p.handler.onError(err);
  }

  private destroySocket(): void {
    this.clearTimer();
    const socket = this.socket;
    if (socket === null) return;
    this.socket = null;
    this.isConnected = false;
    socket.destroy();
    this.dropBuffers();
  }

  /** A closed connection holds no read buffer (writes still referencing one keep it alive). */
  private dropBuffers(): void {
    this.ring.length = 0;
    this.ringNext = 0;
    this.readBuffer = null;
    this.parkedBuffer = null;
  }

  private settleClose(): void {
    const resolve = this.closing;
    this.closing = null;
    resolve?.();
  }

  private setTimer(kind: TimerKind, ms: number): void {
    this.clearTimer();
    if (!(ms > 0)) return;
    this.timerKind = kind;
    this.timer = setTimeout(onTimer, ms, this);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.timerKind = TimerKind.None;
  }

  timerFired(): void {
    const kind = this.timerKind;
    this.timer = null;
    this.timerKind = TimerKind.None;
    switch (kind) {
      case TimerKind.Connect:
        this.fail(new Http1Error('LOOM_H1_CONNECT_TIMEOUT', 'timed out connecting to the upstream'));
        break;
      case TimerKind.Headers:
        this.fail(new Http1Error('LOOM_H1_HEADERS_TIMEOUT', 'the upstream did not answer in time'));
        break;
      case TimerKind.KeepAlive:
        if (this.current === null) this.destroySocket();
        break;
      default:
        break;
    }
  }
}

/**
 * The trailers of a chunked request body (Node's IncomingMessage keeps them in
 * `rawTrailers` once it has ended), hop-by-hop and framing names left out. '' when none.
 */
function trailerLines(body: Readable): string {
  const raw = (body as Readable & { rawTrailers?: readonly string[] }).rawTrailers;
  if (raw === undefined || raw.length === 0) return '';
  let out = '';
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (NOT_TRAILERS.has(lower) || /[\r\n]/.test(raw[i + 1])) continue;
    out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return out;
}

/** Names that never travel as request trailers (RFC 9110 §6.5.1: framing, routing, hop-by-hop). */
const NOT_TRAILERS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'te', 'trailer', 'upgrade', 'proxy-connection']);

function onTimer(c: Http1Connection): void {
  c.timerFired();
}
