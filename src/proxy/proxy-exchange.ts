// One client request on its way through the gateway: the undici dispatch handler for the
// upstream leg and the bookkeeping for the access log. One object per request, no
// closures: event listeners are module-level functions that find the exchange through a
// symbol on the emitter.
//
// Streaming contract: the response body is written chunk by chunk; when the client's
// socket is full (`res.write` returns false) the upstream socket is paused and resumed on
// `drain`. The request body is the client's IncomingMessage, which undici reads with the
// same backpressure towards the upstream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../errors.js';
import type { CompiledRoute } from '../compile/compile.js';
import { recordLatency, type UpstreamEndpoint } from '../upstream/endpoint.js';
import type { EndpointPool, PoolDispatchHandler, PooledClientSlot } from '../upstream/endpoint-pool.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import type { Snapshot } from '../runtime/snapshot.js';
import { classifyUpstreamError } from './classify-error.js';
import { sendError } from './error-response.js';
import { filterResponseHeaders, trailersToObject } from './header-rules.js';

const kExchange = Symbol('loom.exchange');

/** Bytes of response body buffered for a slow client before the upstream is paused. */
export const RESPONSE_BUFFER_LIMIT = 256 * 1024;

type WithExchange = { [kExchange]?: ProxyExchange };

/** Receives each finished request (access log, later metrics). Must not throw. */
export interface ExchangeObserver {
  onExchangeEnd(exchange: ProxyExchange): void;
}

export class ProxyExchange implements PoolDispatchHandler {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly startedAt: number;
  readonly path: string;
  readonly clientIp: string;
  readonly snapshot: Snapshot;
  readonly observer: ExchangeObserver;
  route: CompiledRoute | null = null;
  group: UpstreamGroup | null = null;
  endpoint: UpstreamEndpoint | null = null;
  /** Status sent to the client (499 when the client went away first). */
  status = 0;
  /** Response body bytes written to the client. */
  bytes = 0;
  error: GatewayError | null = null;

  private pool: EndpointPool | null = null;
  private slot: PooledClientSlot | null = null;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private dispatchedAt = 0;
  private writeTimer: NodeJS.Timeout | null = null;
  /** Armed only while the request waits for a busy connection (max_open reached). */
  private queueTimer: NodeJS.Timeout | null = null;
  private finished = false;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    snapshot: Snapshot,
    observer: ExchangeObserver,
    requestId: string,
    path: string,
    clientIp: string,
    startedAt: number,
  ) {
    this.req = req;
    this.res = res;
    this.snapshot = snapshot;
    this.observer = observer;
    this.requestId = requestId;
    this.path = path;
    this.clientIp = clientIp;
    this.startedAt = startedAt;
    snapshot.inflight++;
    (res as WithExchange)[kExchange] = this;
    res.on('close', onResponseClose);
  }

  /** Hot path: sends the request to `endpoint` through its pool. */
  dispatch(group: UpstreamGroup, endpoint: UpstreamEndpoint, opts: Dispatcher.DispatchOptions, hasBody: boolean): void {
    this.group = group;
    this.endpoint = endpoint;
    this.pool = group.pools[endpoint.index];
    endpoint.inflight++;
    this.dispatchedAt = performance.now();
    if (hasBody) {
      (this.req as WithExchange)[kExchange] = this;
      this.req.on('pause', onRequestBodyPause);
      this.req.on('resume', onRequestBodyResume);
    }
    this.slot = this.pool.dispatch(opts, this);
  }

  // --- undici handler (legacy callback API: the one undici 7's Client calls natively) ---

  onQueued(): void {
    this.queueTimer = setTimeout(onQueueTimeout, this.group!.config.timeout.read, this);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.queueTimer !== null) {
      clearTimeout(this.queueTimer);
      this.queueTimer = null;
    }
    if (this.finished) abort(new GatewayError('LOOM_ERR_CLIENT_ABORTED'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx informational responses are not forwarded (101 belongs to the WebSocket issue).
    if (statusCode < 200) return true;
    this.resumeUpstream = resume;
    this.clearWriteTimer();
    if (this.endpoint !== null) recordLatency(this.endpoint, performance.now() - this.dispatchedAt);
    if (this.finished) return false;
    this.status = statusCode;
    this.res.writeHead(statusCode, statusText || undefined, filterResponseHeaders(rawHeaders, this.requestId));
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.finished) return false;
    this.bytes += chunk.length;
    this.res.write(chunk);
    // Pause the upstream only when the client is RESPONSE_BUFFER_LIMIT behind, not at the
    // socket's 16 KiB high-water mark: pausing per chunk starves the pipe (measured).
    if (this.res.writableLength < RESPONSE_BUFFER_LIMIT) return true;
    this.res.once('drain', onResponseDrain);
    return false;
  }

  /** undici passes the raw trailers as Buffers (its typings say string[]). */
  onComplete(trailers: string[] | null): void {
    if (this.finished) return;
    if (trailers !== null && trailers.length > 0) this.res.addTrailers(trailersToObject(trailers as unknown as Buffer[]));
    this.res.end();
    this.finish();
  }

  onError(err: Error): void {
    if (this.finished) return;
    const gatewayError = classifyUpstreamError(err, this.group?.name ?? '', this.status === 0 ? 'connect' : 'response');
    this.error = gatewayError;
    if (this.res.headersSent) {
      // Mid-stream failure: the status line is gone, so cutting the connection is the
      // only way to tell the client the body is incomplete.
      this.res.destroy();
    } else {
      this.status = gatewayError.status;
      sendError(this.res, gatewayError, { requestId: this.requestId, upstream: this.group?.name });
    }
    this.finish();
  }

  // --- local responses (no upstream leg) ---

  /** Sends a locally generated error and finishes the exchange. */
  fail(err: GatewayError, allow?: readonly string[]): void {
    this.error = err;
    this.status = err.status;
    sendError(this.res, err, { requestId: this.requestId, upstream: this.group?.name, allow });
    this.finish();
  }

  // --- events ---

  /** The client connection closed; aborts the upstream leg if the response was not complete. */
  clientClosed(): void {
    if (this.finished) return;
    if (!this.res.writableFinished) {
      this.error = new GatewayError('LOOM_ERR_CLIENT_ABORTED');
      this.status = 499;
      const abort = this.abortUpstream;
      this.finish();
      if (abort !== null) abort(this.error);
    }
  }

  resumeFromDrain(): void {
    if (this.resumeUpstream !== null) this.resumeUpstream();
  }

  requestBodyPaused(): void {
    if (this.writeTimer !== null || this.group === null) return;
    this.writeTimer = setTimeout(onWriteTimeout, this.group.config.timeout.write, this);
  }

  requestBodyResumed(): void {
    this.clearWriteTimer();
  }

  queueTimedOut(): void {
    this.queueTimer = null;
    // Still queued inside undici: its abort is not known yet, so answer now; onConnect
    // will see `finished` and abort the request before it is written.
    if (this.finished) return;
    this.onError(new GatewayError('LOOM_ERR_POOL_TIMEOUT', `every connection to upstream "${this.group?.name}" stayed busy for timeout.read`));
  }

  writeTimedOut(): void {
    this.writeTimer = null;
    const abort = this.abortUpstream;
    if (abort !== null) {
      abort(new GatewayError('LOOM_ERR_UPSTREAM_TIMEOUT', `upstream "${this.group?.name}" stopped accepting the request body`));
    }
  }

  private clearWriteTimer(): void {
    if (this.writeTimer !== null) {
      clearTimeout(this.writeTimer);
      this.writeTimer = null;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearWriteTimer();
    if (this.queueTimer !== null) {
      clearTimeout(this.queueTimer);
      this.queueTimer = null;
    }
    if (this.endpoint !== null) this.endpoint.inflight--;
    if (this.pool !== null && this.slot !== null) this.pool.release(this.slot);
    this.snapshot.unpin();
    this.observer.onExchangeEnd(this);
  }

  /** Milliseconds since the request arrived. */
  elapsed(): number {
    return performance.now() - this.startedAt;
  }
}

function onResponseClose(this: ServerResponse): void {
  (this as WithExchange)[kExchange]?.clientClosed();
}

function onResponseDrain(this: ServerResponse): void {
  (this as WithExchange)[kExchange]?.resumeFromDrain();
}

function onRequestBodyPause(this: IncomingMessage): void {
  (this as WithExchange)[kExchange]?.requestBodyPaused();
}

function onRequestBodyResume(this: IncomingMessage): void {
  (this as WithExchange)[kExchange]?.requestBodyResumed();
}

function onQueueTimeout(exchange: ProxyExchange): void {
  exchange.queueTimedOut();
}

function onWriteTimeout(exchange: ProxyExchange): void {
  exchange.writeTimedOut();
}
