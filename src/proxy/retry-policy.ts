// Retry policy (seed 004, "Retry Policy" / "Exponential Backoff"). Pure: no clock, no
// timers, no I/O; randomness is injected. The proxy loop asks decideRetry after every
// failed try and, on `retry: true`, waits `delayMs` and tries a freshly selected endpoint.
import type { RetryConfig } from '../config/types.js';
import { ERROR_CODES, type GatewayErrorSpec } from '../errors.js';

/** Uniform number in [0, 1); same contract as the selectors' RandomSource. */
export type RandomSource = () => number;

/**
 * Backoff before retry number `retryNumber` (1-based), in whole ms.
 *
 *   nominal(n) = min(max, base × 2^(n-1))            100, 200, 400, … capped at max
 *   delay(n)   = min(max, nominal(n) × (0.5 + random()))
 *
 * Jitter choice: "centred" jitter, uniform in [0.5, 1.5) × nominal. The seed's table
 * ("Attempt 1: 100ms + random jitter, 2: 200ms + …") is then the *mean* of each step
 * (before the cap), while two clients that failed together still spread over a
 * window as wide as the step itself. Full jitter ([0, nominal)) would halve the
 * mean and allow near-zero waits; equal jitter ([0.5, 1) × nominal) keeps every delay
 * under the table. `backoff_max` stays a hard cap on one delay (so at the cap the
 * delays sit in [0.5 × max, max]). Non-positive base → 0. Never NaN, never negative.
 */
export function backoffMs(retryNumber: number, base: number, max: number, random: RandomSource): number {
  if (!(base > 0) || !(max > 0)) return 0;
  const exp = retryNumber > 1 ? retryNumber - 1 : 0;
  // 2^exp overflows to Infinity for huge exp; min() then yields max (base > 0, so no NaN).
  const nominal = Math.min(max, base * 2 ** exp);
  let r = random();
  if (!(r >= 0)) r = 0;
  else if (r >= 1) r = 0.999999;
  return Math.floor(Math.min(max, nominal * (0.5 + r)));
}

/**
 * RFC 9110 §9.2.2 idempotent methods: GET, HEAD, OPTIONS, TRACE, PUT, DELETE.
 * Method names are case-sensitive (RFC 9110 §9.1); `get` is not GET.
 */
export function isIdempotent(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'TRACE':
    case 'PUT':
    case 'DELETE':
      return true;
    default:
      return false;
  }
}

export interface RetryOutcome {
  /** Response status from the upstream, when one arrived (and no errorCode). */
  readonly status?: number;
  /** GatewayError code (LOOM_ERR_*) when the try failed without a usable response. */
  readonly errorCode?: string;
  /** True when the request certainly never reached the upstream (GatewayError.retryable). */
  readonly neverReachedUpstream: boolean;
}

export interface RetryInput {
  /** Retries already made for this request (0 after the first try). */
  readonly retriesDone: number;
  readonly config: RetryConfig;
  readonly method: string;
  /** The route opted in to retrying non-idempotent methods and reached-upstream errors. */
  readonly routeAllowsNonIdempotent: boolean;
  readonly outcome: RetryOutcome;
  /**
   * The request body can be sent again: true for no body or a buffered one
   * (see `isReplayable` in replayable-body.ts), false for a streamed one.
   */
  readonly bodyReplayable: boolean;
  /**
   * The retry budget allows one more retry. May be a function, e.g. `budget.tryStartRetry`
   * (a bound method): it is then called only when every other rule already says yes, so
   * a budget slot is taken exactly when the answer is `retry: true` — the caller must
   * then call `budget.retryFinished()` when that retry ends. A plain boolean is just read.
   */
  readonly budgetAllows: boolean | (() => boolean);
  readonly random: RandomSource;
}

/** Why no retry; short, stable strings for debug logs and tests. */
export type RetryRefusal =
  | 'max_retries' // retriesDone >= max_retries
  | 'success' // neither an error nor a status: nothing to retry
  | 'status_not_retryable' // status not in retryable_codes
  | 'error_not_retryable' // client, internal or no-endpoint error: another try cannot help
  | 'non_idempotent' // reached the upstream, method not idempotent, route did not opt in
  | 'body_not_replayable' // the body was streamed, not buffered
  | 'budget_exhausted'; // the upstream's retry budget says no

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly reason: RetryRefusal };

// Preallocated refusals: decideRetry allocates only when it says yes.
const REFUSALS: { readonly [K in RetryRefusal]: RetryDecision } = {
  max_retries: { retry: false, reason: 'max_retries' },
  success: { retry: false, reason: 'success' },
  status_not_retryable: { retry: false, reason: 'status_not_retryable' },
  error_not_retryable: { retry: false, reason: 'error_not_retryable' },
  non_idempotent: { retry: false, reason: 'non_idempotent' },
  body_not_replayable: { retry: false, reason: 'body_not_replayable' },
  budget_exhausted: { retry: false, reason: 'budget_exhausted' },
};

/**
 * Transport errors that may be retried. Connect failures — and any other upstream-source
 * code that errors.ts marks `retryable` (certainly never reached the upstream, e.g.
 * LOOM_ERR_POOL_TIMEOUT) — are safe for every method; resets, protocol errors and read
 * timeouts may have reached it, so they need an idempotent method or the route's
 * opt-in. LOOM_ERR_NO_ENDPOINT, LOOM_ERR_CLIENT_ABORTED, client and internal errors are
 * never retried.
 */
function errorKind(code: string): 'never_reached' | 'maybe_reached' | 'no' {
  switch (code) {
    case 'LOOM_ERR_UPSTREAM_CONNECT':
    case 'LOOM_ERR_UPSTREAM_CONNECT_TIMEOUT':
      return 'never_reached';
    case 'LOOM_ERR_UPSTREAM_RESET':
    case 'LOOM_ERR_UPSTREAM_PROTOCOL':
    case 'LOOM_ERR_UPSTREAM_TIMEOUT':
      return 'maybe_reached';
    default: {
      const spec: GatewayErrorSpec | undefined = Object.hasOwn(ERROR_CODES, code) ? (ERROR_CODES as Record<string, GatewayErrorSpec>)[code] : undefined;
      return spec !== undefined && spec.source === 'upstream' && spec.retryable ? 'never_reached' : 'no';
    }
  }
}

/**
 * Hot path (after a failed try). Rules, checked in this order:
 *  1. retriesDone >= max_retries → max_retries.
 *  2. An error (errorCode set; it wins over status):
 *     - connect error / connect timeout (or another upstream code errors.ts marks
 *       retryable) → retryable for every method;
 *     - reset, protocol error, read timeout → for idempotent methods, when the route
 *       opts in, or when the caller flags neverReachedUpstream (else non_idempotent);
 *     - anything else → error_not_retryable.
 *     A status (no error): only codes in retryable_codes (else status_not_retryable); a
 *     non-idempotent method only when the route opts in (else non_idempotent).
 *     Neither → success.
 *  3. bodyReplayable false → body_not_replayable (a request without a body must be
 *     passed as replayable).
 *  4. The budget, last (see RetryInput.budgetAllows) → budget_exhausted.
 * Then `retry: true` with delayMs = backoffMs(retriesDone + 1, backoff_base, backoff_max, random).
 * Retry-After from the upstream is not consulted.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { config, outcome } = input;
  if (input.retriesDone >= config.max_retries) return REFUSALS.max_retries;

  if (outcome.errorCode !== undefined) {
    const kind = errorKind(outcome.errorCode);
    if (kind === 'no') return REFUSALS.error_not_retryable;
    if (kind === 'maybe_reached' && !outcome.neverReachedUpstream && !input.routeAllowsNonIdempotent && !isIdempotent(input.method)) {
      return REFUSALS.non_idempotent;
    }
  } else if (outcome.status !== undefined) {
    if (!config.retryable_codes.includes(outcome.status)) return REFUSALS.status_not_retryable;
    if (!input.routeAllowsNonIdempotent && !isIdempotent(input.method)) return REFUSALS.non_idempotent;
  } else {
    return REFUSALS.success;
  }

  if (!input.bodyReplayable) return REFUSALS.body_not_replayable;

  const budget = input.budgetAllows;
  if (!(typeof budget === 'function' ? budget() : budget)) return REFUSALS.budget_exhausted;

  return { retry: true, delayMs: backoffMs(input.retriesDone + 1, config.backoff_base, config.backoff_max, input.random) };
}
