// Circuit breaker, one per upstream (seed 004, "Circuit Breaker"). A plain state machine:
// no timers, no I/O; time comes from the injected clock and the open → half_open move
// happens lazily, inside tryAcquire, once `timeout` ms have passed.
//
//   closed    --failure_threshold consecutive failures-->  open
//   open      --timeout elapsed (seen by tryAcquire)---->  half_open
//   half_open --any failure----------------------------->  open (timer restarts)
//   half_open --success_threshold consecutive successes->  closed
//
// Usage per request (hot path, no allocation):
//   if (!breaker.tryAcquire()) → 503 LOOM_ERR_NO_ENDPOINT-like refusal
//   const epoch = breaker.epoch;               // optional, see below
//   … exchange …
//   breaker.onResult(classifyFailure(status, code), epoch)   // exactly once, or
//   breaker.release(epoch)                     // when the outcome says nothing (client went away)
//
// Stale results. A request acquired in one state may finish after the breaker moved
// on (e.g. acquired while closed, finishes after the circuit opened and went
// half-open). Such a result must not take a half-open trial slot nor count as a trial
// outcome. `epoch` increments on every transition; pass the epoch read right after
// tryAcquire to onResult/release and results from an older epoch are ignored. Without
// the argument a result is attributed to the current state (good enough for callers
// that cannot carry it, but a stale result could then free a trial slot early).
import type { CircuitBreakerConfig, FailureKind } from '../config/types.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

/** Numeric state for the `loom_circuit_breaker_state` gauge (seed: 0=closed, 1=open, 2=half-open). */
export const CIRCUIT_STATE_CODE = { closed: 0, open: 1, half_open: 2 } as const satisfies Record<CircuitState, number>;
export type CircuitStateCode = (typeof CIRCUIT_STATE_CODE)[CircuitState];

export type CircuitStateListener = (from: CircuitState, to: CircuitState) => void;

export interface CircuitBreakerSnapshot {
  readonly state: CircuitState;
  readonly state_code: CircuitStateCode;
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
  /** Clock value when the circuit last opened; null when it never did. Kept after closing. */
  readonly opened_at: number | null;
  readonly trials_in_flight: number;
  readonly epoch: number;
}

export class CircuitBreaker {
  private readonly failureThreshold: number;
  private readonly successThreshold: number;
  private readonly openMs: number;
  private readonly maxTrials: number;
  // Bit set of FailureKind that count (precomputed: onResult does no array search).
  private readonly countConnect: boolean;
  private readonly countTimeout: boolean;
  private readonly count5xx: boolean;
  private readonly now: () => number;
  private readonly onStateChange: CircuitStateListener | undefined;

  private _state: CircuitState = 'closed';
  private _epoch = 0;
  private consecutiveFailures = 0;
  private consecutiveSuccesses = 0;
  private openedAt: number | null = null;
  private trialsInFlight = 0;

  constructor(config: CircuitBreakerConfig, now: () => number, onStateChange?: CircuitStateListener) {
    // Thresholds below 1 make no sense; the validator rejects them, this only guards.
    this.failureThreshold = Math.max(1, Math.floor(config.failure_threshold));
    this.successThreshold = Math.max(1, Math.floor(config.success_threshold));
    this.openMs = Math.max(0, config.timeout);
    this.maxTrials = Math.max(1, Math.floor(config.half_open_requests));
    this.countConnect = config.failure_on.includes('connect_error');
    this.countTimeout = config.failure_on.includes('timeout');
    this.count5xx = config.failure_on.includes('5xx');
    this.now = now;
    this.onStateChange = onStateChange;
  }

  /** Stored state. An open circuit whose timeout has passed still reads 'open' until the next tryAcquire. */
  get state(): CircuitState {
    return this._state;
  }

  get stateCode(): CircuitStateCode {
    return CIRCUIT_STATE_CODE[this._state];
  }

  /** Increments on every transition; see "Stale results" above. */
  get epoch(): number {
    return this._epoch;
  }

  /**
   * Hot path. May the next request go to the upstream? A `true` must be followed by
   * exactly one onResult or release.
   */
  tryAcquire(): boolean {
    switch (this._state) {
      case 'closed':
        return true;
      case 'open':
        if (this.now() - (this.openedAt as number) < this.openMs) return false;
        this.transition('half_open');
        this.trialsInFlight = 1; // this request is the first trial
        return true;
      case 'half_open':
        if (this.trialsInFlight >= this.maxTrials) return false;
        this.trialsInFlight++;
        return true;
    }
  }

  /**
   * The outcome of an acquired request: a FailureKind, or null for success. Kinds not
   * in `failure_on` count as success. `epoch` (optional): the value of `this.epoch`
   * right after tryAcquire; results from an earlier epoch are ignored.
   */
  onResult(failure: FailureKind | null, epoch?: number): void {
    if (epoch !== undefined && epoch !== this._epoch) return;
    const failed = failure !== null && this.counts(failure);
    switch (this._state) {
      case 'closed':
        if (failed) {
          this.consecutiveSuccesses = 0;
          if (++this.consecutiveFailures >= this.failureThreshold) this.open();
        } else {
          this.consecutiveFailures = 0;
          this.consecutiveSuccesses++;
        }
        return;
      case 'open':
        // Only reachable without an epoch: a request acquired before the circuit opened.
        return;
      case 'half_open':
        if (this.trialsInFlight > 0) this.trialsInFlight--;
        if (failed) {
          this.consecutiveFailures++;
          this.open();
          return;
        }
        this.consecutiveFailures = 0;
        if (++this.consecutiveSuccesses >= this.successThreshold) this.transition('closed');
        return;
    }
  }

  /** An acquired request ended without an outcome that counts (client aborted, cancelled): frees its trial slot. */
  release(epoch?: number): void {
    if (epoch !== undefined && epoch !== this._epoch) return;
    if (this._state === 'half_open' && this.trialsInFlight > 0) this.trialsInFlight--;
  }

  snapshot(): CircuitBreakerSnapshot {
    return {
      state: this._state,
      state_code: CIRCUIT_STATE_CODE[this._state],
      consecutive_failures: this.consecutiveFailures,
      consecutive_successes: this.consecutiveSuccesses,
      opened_at: this.openedAt,
      trials_in_flight: this.trialsInFlight,
      epoch: this._epoch,
    };
  }

  private counts(kind: FailureKind): boolean {
    switch (kind) {
      case 'connect_error':
        return this.countConnect;
      case 'timeout':
        return this.countTimeout;
      case '5xx':
        return this.count5xx;
    }
  }

  private open(): void {
    this.openedAt = this.now();
    this.transition('open');
  }

  private transition(to: CircuitState): void {
    const from = this._state;
    this._state = to;
    this._epoch++;
    this.trialsInFlight = 0;
    this.consecutiveSuccesses = 0;
    if (to !== 'open') this.consecutiveFailures = 0;
    // open → open (half-open failure) is reported as half_open → open: `from` is never `to`.
    if (this.onStateChange !== undefined) this.onStateChange(from, to);
  }
}

/**
 * What a finished exchange means to a circuit breaker (and to passive health).
 * `errorCode` is a GatewayError code when the exchange failed before a response
 * status was relayed; it wins over `status`.
 *
 *   LOOM_ERR_UPSTREAM_CONNECT                      → 'connect_error'
 *   LOOM_ERR_UPSTREAM_*_TIMEOUT (CONNECT_TIMEOUT, TIMEOUT) → 'timeout' (only upstream
 *       timeouts: a future client-side timeout code says nothing about the upstream)
 *   LOOM_ERR_UPSTREAM_RESET, LOOM_ERR_UPSTREAM_PROTOCOL → '5xx'
 *       (decision: the upstream accepted the connection and then failed the exchange;
 *        the client sees a 502, and a crashing or overloaded backend shows up exactly
 *        this way, so it counts like a 5xx — as Envoy's consecutive_5xx does for
 *        locally-originated resets)
 *   status 500–599                                 → '5xx'
 *   anything else (2xx–4xx, LOOM_ERR_CLIENT_ABORTED, LOOM_ERR_NO_ENDPOINT,
 *   LOOM_ERR_POOL_TIMEOUT — local saturation, not an upstream answer — client and
 *   internal errors)                               → null
 *
 * null is "success" to onResult. When an errorCode maps to null (the client went away,
 * the gateway itself failed, no pooled connection in time) the caller should call
 * `release()` rather than `onResult(null)`: such an end says nothing about the upstream.
 */
export function classifyFailure(status: number | undefined, errorCode: string | undefined): FailureKind | null {
  if (errorCode !== undefined) {
    switch (errorCode) {
      case 'LOOM_ERR_UPSTREAM_CONNECT':
        return 'connect_error';
      case 'LOOM_ERR_UPSTREAM_RESET':
      case 'LOOM_ERR_UPSTREAM_PROTOCOL':
        return '5xx';
      case 'LOOM_ERR_CLIENT_ABORTED':
        return null;
      default:
        if (errorCode.startsWith('LOOM_ERR_UPSTREAM_') && errorCode.endsWith('_TIMEOUT')) return 'timeout';
        return null;
    }
  }
  if (status !== undefined && status >= 500 && status <= 599) return '5xx';
  return null;
}
