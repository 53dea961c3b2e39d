// One client request on its way through the gateway: the try loop (select an endpoint,
// ask the circuit breaker, dispatch, classify the outcome, maybe retry on a fresh
// endpoint after a backoff) and the bookkeeping for the access log. One object per
// request plus one UpstreamTry per try; event listeners are module-level functions that
// find the exchange through a symbol on the emitter, so the hot path creates no closures.
//
// Streaming contract: the response body is written chunk by chunk, each chunk a view of
// the upstream connection's read buffer, handed back (`flushed`) when its write completes;
// when the client is RESPONSE_BUFFER_LIMIT behind, the upstream socket is paused and
// resumed on `drain`. The request body is the client's stream (or a buffered copy when a
// retry policy needs to resend it), written with the same backpressure towards the upstream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { GatewayError } from '../errors.js';
import type { CompiledRoute } from '../compile/compile.js';
import { classifyFailure } from '../upstream/circuit-breaker.js';
import { recordLatency, type UpstreamEndpoint } from '../upstream/endpoint.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import type { Snapshot } from '../runtime/snapshot.js';
import { classifyUpstreamError } from './classify-error.js';
import { sendError } from './error-response.js';
import { buildUpstreamHeaders, filterResponseHeaders, trailersToObject, type ForwardingInfo } from './header-rules.js';
import { decideRetry } from './retry-policy.js';
import { UpstreamTry } from './upstream-try.js';
import type { RequestTrace } from '../observability/tracing.js';

const kExchange = Symbol('loom.exchange');

type WithExchange = { [kExchange]?: ProxyExchange };

/** Bytes of response body buffered for a slow client before the upstream is paused. */
export const RESPONSE_BUFFER_LIMIT = 256 * 1024;

/** Receives each finished request and each finished upstream try (metrics, access log). Must not throw. */
export interface ExchangeObserver {
  onExchangeEnd(exchange: ProxyExchange): void;
  /** `status`: the upstream's status, undefined when none arrived; `err`: why the try failed. */
  onTryEnd(exchange: ProxyExchange, t: UpstreamTry, status: number | undefined, err: GatewayError | undefined): void;
}

/** What to send upstream, decided once per request by handleRequest. */
export interface ForwardPlan {
  readonly method: string;
  /** Path and query as sent upstream. */
  readonly path: string;
  readonly headersTimeout: number;
  /** null: no body; a Buffer can be resent by a retry; a stream cannot. */
  readonly body: Buffer | Readable | null;
  readonly forwarding: ForwardingInfo;
}

export class ProxyExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly startedAt: number;
  readonly path: string;
  readonly clientIp: string;
  readonly snapshot: Snapshot;
  readonly observer: ExchangeObserver;
  readonly rawQuery: string;
  route: CompiledRoute | null = null;
  group: UpstreamGroup | null = null;
  /** The endpoint of the latest try. */
  endpoint: UpstreamEndpoint | null = null;
  /** Status sent to the client (499 when the client went away first). */
  status = 0;
  /** Response body bytes written to the client. */
  bytes = 0;
  /** Tries made (1 + retries); 0 when no upstream was tried. */
  tries = 0;
  error: GatewayError | null = null;
  /** The request's trace when tracing is on (set by handleRequest), else null. */
  trace: RequestTrace | null = null;

  private plan: ForwardPlan | null = null;
  private upstreamHeaders: string[] | null = null;
  private current: UpstreamTry | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The retry budget counted this request (forward ran). */
  private budgeted = false;
  /** Why the latest try failed, answered when a granted retry cannot start. */
  private lastError: GatewayError | null = null;
  private finished = false;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    snapshot: Snapshot,
    observer: ExchangeObserver,
    requestId: string,
    path: string,
    rawQuery: string,
    clientIp: string,
    startedAt: number,
  ) {
    this.req = req;
    this.res = res;
    this.snapshot = snapshot;
    this.observer = observer;
    this.requestId = requestId;
    this.path = path;
    this.rawQuery = rawQuery;
    this.clientIp = clientIp;
    this.startedAt = startedAt;
    snapshot.inflight++;
    (res as WithExchange)[kExchange] = this;
    res.on('close', onResponseClose);
  }

  /** Hot path: starts the try loop towards `group` with the first endpoint already chosen (or none). */
  forward(group: UpstreamGroup, plan: ForwardPlan, headers: string[]): void {
    this.group = group;
    this.plan = plan;
    this.upstreamHeaders = headers;
    if (group.retryBudget !== null) {
      group.retryBudget.requestStarted();
      this.budgeted = true;
    }
    const body = plan.body;
    if (body !== null && !Buffer.isBuffer(body)) {
      (body as WithExchange)[kExchange] = this;
      body.on('pause', onRequestBodyPause);
      body.on('resume', onRequestBodyResume);
    }
    this.startTry(undefined);
  }

  /** Selects an endpoint (avoiding `exclude`), asks the circuit breaker, dispatches. */
  private startTry(exclude: UpstreamEndpoint | undefined): void {
    const group = this.group!;
    const plan = this.plan!;
    const breaker = group.circuitBreaker;
    if (breaker !== null && !breaker.tryAcquire()) {
      if (this.tries > 0) group.retryBudget?.retryFinished();
      // On a retry, the client learns why the last try failed, not that the retry was refused.
      this.fail(this.lastError ?? new GatewayError('LOOM_ERR_CIRCUIT_OPEN', `the circuit breaker of upstream "${group.name}" is open`));
      return;
    }
    const epoch = breaker === null ? -1 : breaker.epoch;
    const endpoint = group.selector.select(this, exclude);
    if (endpoint === undefined) {
      breaker?.release(epoch);
      if (this.tries > 0) group.retryBudget?.retryFinished();
      this.fail(this.lastError ?? new GatewayError('LOOM_ERR_NO_ENDPOINT', `upstream "${group.name}" has no healthy endpoint`));
      return;
    }
    let headers = group.sendEndpointHost ? buildUpstreamHeaders(this.req.rawHeaders, { ...plan.forwarding, hostOverride: endpoint.address })! : this.upstreamHeaders!;
    const t = new UpstreamTry(this, endpoint, group.pools[endpoint.index], this.tries, epoch);
    if (this.trace !== null) {
      t.trace = this.trace.startTry(group.name, endpoint.host, endpoint.port, plan.method, plan.path, this.tries);
      headers = t.trace.inject(headers);
    }
    this.tries++;
    this.current = t;
    this.endpoint = endpoint;
    endpoint.inflight++;
    t.dispatchedAt = performance.now();
    t.pool.dispatch({ method: plan.method, path: plan.path, headers, body: plan.body, headersTimeout: plan.headersTimeout }, t);
  }

  /** SelectionInput: the exchange itself is what selectors read (clientIp, headers, rawQuery). */
  get headers(): IncomingMessage['headers'] {
    return this.req.headers;
  }

  // --- callbacks from the current try (stale tries are ignored) ---

  tryQueued(t: UpstreamTry): void {
    t.queueTimer = setTimeout(onQueueTimeout, this.group!.config.timeout.read, t);
  }

  tryConnected(t: UpstreamTry): void {
    if (t.queueTimer !== null) {
      clearTimeout(t.queueTimer);
      t.queueTimer = null;
    }
    if (t !== this.current || this.finished) t.abort!(new GatewayError('LOOM_ERR_CLIENT_ABORTED'));
  }

  tryHeaders(t: UpstreamTry, statusCode: number, rawHeaders: string[], resume: () => void, statusText: string): boolean {
    // 1xx informational responses are not forwarded (101 belongs to the WebSocket issue).
    if (statusCode < 200) return true;
    if (t !== this.current || this.finished) return false;
    t.resume = resume;
    t.status = statusCode;
    clearTryTimer(t);
    recordLatency(t.endpoint, performance.now() - t.dispatchedAt);
    const retry = this.group!.config.retry;
    if (retry !== undefined && retry.retryable_codes.includes(statusCode)) {
      // The outcome is known now: let the breaker and the detector see it before deciding,
      // so a retry is only started when it can run (else the client gets this response).
      this.recordOutcome(t, statusCode, undefined);
      if (this.retryCanRun() && this.retryAllowed(t, statusCode, undefined)) {
        // Read and drop this response (keeps the connection), then retry on completion.
        t.discarding = true;
        return true;
      }
    }
    this.status = statusCode;
    this.res.writeHead(statusCode, statusText || undefined, filterResponseHeaders(rawHeaders, this.requestId));
    return true;
  }

  tryData(t: UpstreamTry, chunk: Buffer, flushed: () => void): boolean {
    if (t !== this.current || this.finished) {
      flushed();
      return false;
    }
    if (t.discarding) {
      flushed();
      return true;
    }
    this.bytes += chunk.length;
    // The chunk is a view of a read buffer the connection reuses once `flushed` has run. If
    // the write is dropped (client socket already destroyed) the callback never comes and
    // the connection replaces that buffer instead of reusing it.
    this.res.write(chunk, flushed);
    // Pause the upstream only when the client is RESPONSE_BUFFER_LIMIT behind, not at the
    // socket's 16 KiB high-water mark: pausing per chunk starves the pipe (measured).
    if (this.res.writableLength < RESPONSE_BUFFER_LIMIT) return true;
    this.res.once('drain', onResponseDrain);
    return false;
  }

  tryComplete(t: UpstreamTry, trailers: string[] | null): void {
    if (t !== this.current || this.finished) {
      this.endTry(t, t.status, undefined);
      return;
    }
    this.endTry(t, t.status, undefined);
    if (t.discarding) {
      this.scheduleRetry(t);
      return;
    }
    if (trailers !== null && trailers.length > 0) this.res.addTrailers(trailersToObject(trailers));
    this.res.end();
    this.finish();
  }

  tryError(t: UpstreamTry, err: Error): void {
    const gatewayError = classifyUpstreamError(err, this.group?.name ?? '', t.status === 0 ? 'connect' : 'response');
    this.endTry(t, t.status === 0 ? undefined : t.status, gatewayError);
    if (t !== this.current || this.finished) return;
    if (t.discarding || (!this.res.headersSent && this.retryAllowed(t, undefined, gatewayError))) {
      this.lastError = t.discarding ? new GatewayError('LOOM_ERR_UPSTREAM_RESET', `upstream "${this.group?.name}" failed mid-response on a retried request`) : gatewayError;
      this.scheduleRetry(t);
      return;
    }
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

  // --- retries ---

  /** Asks the retry policy; takes a retry-budget slot when the answer is yes. */
  private retryAllowed(t: UpstreamTry, status: number | undefined, err: GatewayError | undefined): boolean {
    const group = this.group!;
    const config = group.config.retry;
    if (config === undefined) return false;
    const decision = decideRetry({
      retriesDone: t.retryNumber,
      config,
      method: this.plan!.method,
      routeAllowsNonIdempotent: this.route?.retry_non_idempotent ?? false,
      outcome: err === undefined ? { status, neverReachedUpstream: false } : { errorCode: err.code, neverReachedUpstream: err.retryable },
      bodyReplayable: this.plan!.body === null || Buffer.isBuffer(this.plan!.body),
      budgetAllows: group.retryBudget!.tryStartRetry,
      random: Math.random,
    });
    if (!decision.retry) return false;
    t.retryDelay = decision.delayMs;
    t.retryGranted = true;
    return true;
  }

  /** Cold path (a retryable status arrived): could a retry be admitted right now? */
  private retryCanRun(): boolean {
    const group = this.group!;
    if (group.circuitBreaker !== null && group.circuitBreaker.state === 'open') return false;
    for (const e of group.endpoints) if (e.available) return true;
    return false;
  }

  private scheduleRetry(t: UpstreamTry): void {
    t.retryGranted = false; // the timer owns the budget slot now (finish() returns it if it never fires)
    this.retryTimer = setTimeout(onRetryTimer, t.retryDelay, this, t.endpoint);
  }

  retryNow(previous: UpstreamEndpoint): void {
    this.retryTimer = null;
    if (this.finished) return;
    this.startTry(previous);
  }

  /** Settles a try's counters, pool slot, breaker and outlier outcome (once). */
  private endTry(t: UpstreamTry, status: number | undefined, err: GatewayError | undefined): void {
    if (t.ended) return;
    t.ended = true;
    clearTryTimer(t);
    if (t.queueTimer !== null) {
      clearTimeout(t.queueTimer);
      t.queueTimer = null;
    }
    t.endpoint.inflight--;
    if (t.slot !== null) t.pool.release(t.slot);
    const group = this.group!;
    if (t.retryNumber > 0) group.retryBudget?.retryFinished();
    if (!t.outcomeRecorded) this.recordOutcome(t, status, err);
    if (t.trace !== null) t.trace.end(status, err?.code);
    this.observer.onTryEnd(this, t, status, err);
  }

  /** Reports a try's outcome to the circuit breaker and the outlier detector, once. */
  private recordOutcome(t: UpstreamTry, status: number | undefined, err: GatewayError | undefined): void {
    t.outcomeRecorded = true;
    const group = this.group!;
    const aborted = err !== undefined && (err.code === 'LOOM_ERR_CLIENT_ABORTED' || err.code === 'LOOM_ERR_POOL_TIMEOUT');
    const breaker = group.circuitBreaker;
    if (breaker !== null) {
      if (aborted) breaker.release(t.breakerEpoch);
      else breaker.onResult(classifyFailure(status, err?.code), t.breakerEpoch);
    }
    if (group.outlierDetector !== null && !aborted) {
      group.outlierDetector.record(t.endpoint, err !== undefined || (status !== undefined && status >= 500));
    }
  }

  // --- local responses (no upstream leg, or no further try) ---

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
      const t = this.current;
      this.finish();
      if (t !== null && t.abort !== null && !t.ended) t.abort(this.error);
    }
  }

  resumeFromDrain(): void {
    const t = this.current;
    if (t !== null && t.resume !== null) t.resume();
  }

  requestBodyPaused(): void {
    const t = this.current;
    if (t === null || t.writeTimer !== null || this.group === null) return;
    t.writeTimer = setTimeout(onWriteTimeout, this.group.config.timeout.write, t);
  }

  requestBodyResumed(): void {
    const t = this.current;
    if (t !== null) clearTryTimer(t);
  }

  queueTimedOut(t: UpstreamTry): void {
    t.queueTimer = null;
    // Still queued on a busy connection: its abort is not known yet, so settle the try now;
    // tryConnected will abort the request before it is written.
    if (t !== this.current || this.finished || t.ended) return;
    this.tryError(t, new GatewayError('LOOM_ERR_POOL_TIMEOUT', `every connection to upstream "${this.group?.name}" stayed busy for timeout.read`));
  }

  writeTimedOut(t: UpstreamTry): void {
    t.writeTimer = null;
    if (t.abort !== null && !t.ended) {
      t.abort(new GatewayError('LOOM_ERR_UPSTREAM_TIMEOUT', `upstream "${this.group?.name}" stopped accepting the request body`));
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.retryTimer !== null) {
      // A retry was granted a budget slot but will never start.
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.group?.retryBudget?.retryFinished();
    }
    const t = this.current;
    if (t !== null && !t.ended && t.abort === null) {
      // Never connected (queued or not yet written): settle it now; the connection aborts it later.
      this.endTry(t, undefined, new GatewayError('LOOM_ERR_CLIENT_ABORTED'));
    }
    if (this.budgeted) this.group!.retryBudget!.requestFinished();
    if (t !== null && t.retryGranted) {
      // The retry was granted but neither scheduled nor started (the client went away).
      t.retryGranted = false;
      this.group!.retryBudget!.retryFinished();
    }
    this.snapshot.unpin();
    this.durationMs = performance.now() - this.startedAt;
    if (this.trace !== null) this.trace.end(this.status, this.error?.code);
    this.observer.onExchangeEnd(this);
  }

  /** Milliseconds from arrival to the end of the exchange; set once by finish(), read by the observers. */
  durationMs = 0;
}

function clearTryTimer(t: UpstreamTry): void {
  if (t.writeTimer !== null) {
    clearTimeout(t.writeTimer);
    t.writeTimer = null;
  }
}

function onResponseClose(this: ServerResponse): void {
  (this as WithExchange)[kExchange]?.clientClosed();
}

function onResponseDrain(this: ServerResponse): void {
  (this as WithExchange)[kExchange]?.resumeFromDrain();
}

function onRequestBodyPause(this: Readable): void {
  (this as WithExchange)[kExchange]?.requestBodyPaused();
}

function onRequestBodyResume(this: Readable): void {
  (this as WithExchange)[kExchange]?.requestBodyResumed();
}

function onQueueTimeout(t: UpstreamTry): void {
  t.exchange.queueTimedOut(t);
}

function onWriteTimeout(t: UpstreamTry): void {
  t.exchange.writeTimedOut(t);
}

function onRetryTimer(exchange: ProxyExchange, previous: UpstreamEndpoint): void {
  exchange.retryNow(previous);
}
