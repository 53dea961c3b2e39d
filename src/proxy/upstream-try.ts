// One try of a request against one endpoint: the upstream connection's handler. It only
// forwards the connection's callbacks to its exchange, which ignores callbacks from a try that
// is no longer current (an aborted or superseded one), so tries never get mixed up.
// One object per try; the exchange does the work.
import type { PoolDispatchHandler, EndpointPool, PooledClientSlot } from '../upstream/endpoint-pool.js';
import type { UpstreamEndpoint } from '../upstream/endpoint.js';
import type { ProxyExchange } from './proxy-exchange.js';
import type { TryTrace } from '../observability/tracing.js';

export class UpstreamTry implements PoolDispatchHandler {
  readonly exchange: ProxyExchange;
  readonly endpoint: UpstreamEndpoint;
  readonly pool: EndpointPool;
  /** 0 for the first try, n for the n-th retry. */
  readonly retryNumber: number;
  /** The circuit breaker's epoch when this try was admitted (-1: no breaker). */
  readonly breakerEpoch: number;
  slot: PooledClientSlot | null = null;
  abort: ((err?: Error) => void) | null = null;
  resume: (() => void) | null = null;
  dispatchedAt = 0;
  queueTimer: NodeJS.Timeout | null = null;
  writeTimer: NodeJS.Timeout | null = null;
  /** The response is being read and thrown away because the request will be retried. */
  discarding = false;
  /** Backoff before the retry that follows this try, ms (set when a retry is granted). */
  retryDelay = 0;
  /** A retry was granted after this try and holds a retry-budget slot that no retry timer owns yet. */
  retryGranted = false;
  /** The breaker and outlier detector already saw this try's outcome (at response headers). */
  outcomeRecorded = false;
  /** Response status (0 before headers). */
  status = 0;
  /** Released: counters, pool slot and breaker outcome are settled. */
  ended = false;
  /** This try's client span when the request is traced. */
  trace: TryTrace | null = null;

  constructor(exchange: ProxyExchange, endpoint: UpstreamEndpoint, pool: EndpointPool, retryNumber: number, breakerEpoch: number) {
    this.exchange = exchange;
    this.endpoint = endpoint;
    this.pool = pool;
    this.retryNumber = retryNumber;
    this.breakerEpoch = breakerEpoch;
  }

  onQueued(): void {
    this.exchange.tryQueued(this);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    this.exchange.tryConnected(this);
  }

  onHeaders(statusCode: number, headers: string[], resume: () => void, statusText: string): boolean {
    return this.exchange.tryHeaders(this, statusCode, headers, resume, statusText);
  }

  onData(chunk: Buffer, flushed: () => void): boolean {
    return this.exchange.tryData(this, chunk, flushed);
  }

  onComplete(trailers: string[] | null): void {
    this.exchange.tryComplete(this, trailers);
  }

  onError(err: Error): void {
    this.exchange.tryError(this, err);
  }
}
