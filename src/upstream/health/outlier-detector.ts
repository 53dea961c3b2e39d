// Passive health (outlier detection) for one upstream, after Envoy's consecutive-5xx
// detector. The proxy reports the outcome of every request sent to an endpoint; an
// endpoint that fails `consecutive_failures` times in a row is ejected (taken out of
// rotation) for a while, then returns on its own.
//
// Rules (the contract; tests in test/unit/outlier-detector.test.ts):
// - Streak: `record(e, true)` adds a failure, `record(e, false)` resets the streak. What
//   counts as a failure (5xx, connection failure, timeout) is the caller's decision.
// - Ejection time: the k-th ejection in a row lasts min(base_ejection_time × k,
//   max_ejection_time); `endpoint.ejections` holds k (the multiplier).
// - Decay: each full base_ejection_time an endpoint spends un-ejected takes 1 off
//   `ejections` (Envoy decrements its multiplier while the host behaves). It is computed
//   lazily at the next ejection, so `ejections` shown between ejections is an upper bound.
// - Cap: at most floor(n × max_ejection_percent / 100) of the n endpoints are ejected at
//   once. With 2 endpoints and 50% one may be ejected; with 1 endpoint and 50% none; with
//   100% all may be. (Unlike Envoy, there is no "at least one regardless": the percent
//   rules.) A refused ejection resets the streak and counts in `ejectionsSkipped`; the
//   endpoint needs another full streak to be considered again.
// - Return: a timer ends each ejection: `ejectedUntil = 0`, streak reset, `available`
//   refreshed. Outcomes recorded while an endpoint is ejected (requests that were already
//   in flight) are ignored.
// - The detector writes only `ejectedUntil` and `ejections` on the endpoint, then calls
//   `refreshAvailability`; active health and drain are other writers.
// - `ejectedUntil` is in the units of the injected clock. A new detector for the same
//   endpoints (reload with a changed config) adopts ejections in progress: it schedules
//   their return at `ejectedUntil` (so every detector must use the same clock). `close()`
//   cancels timers and leaves endpoint state alone; `resetOutlierState` clears it when an
//   upstream stops using outlier detection.
// Cost: `record` is on the hot path: an array index, a compare and an increment; it
// allocates nothing. Ejection and return are rare and may log and allocate.
import type { OutlierDetectionConfig } from '../../config/types.js';
import type { Logger } from '../../observability/logger.js';
import { refreshAvailability, type UpstreamEndpoint } from '../endpoint.js';

/** Runs `fn` once after `ms`; returns a function that cancels it. */
export type SetTimer = (fn: () => void, ms: number) => () => void;

/** Called when an endpoint is ejected (true) or returns (false), after `available` is refreshed. */
export type EjectionListener = (endpoint: UpstreamEndpoint, ejected: boolean) => void;

export interface OutlierDetectorOptions {
  /** Upstream name, for logs. */
  readonly upstream?: string;
  /** The upstream's endpoints; `endpoints[i].index` must be `i`. */
  readonly endpoints: readonly UpstreamEndpoint[];
  readonly config: OutlierDetectionConfig;
  /** Clock, ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Default: `setTimeout`, unref'd. */
  readonly setTimer?: SetTimer;
  readonly logger?: Logger;
  readonly onChange?: EjectionListener;
}

interface OutlierState {
  /** Consecutive failures since the last success, return or ejection attempt. */
  failures: number;
  /** Clock time the endpoint last came back (or the detector started): decay runs from here. */
  returnedAt: number;
  /** Cancels the return timer while ejected. */
  cancel: (() => void) | null;
}

/** `setTimeout` that never keeps the process alive. */
export const unrefTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export class OutlierDetector {
  readonly upstream: string;
  private readonly endpoints: readonly UpstreamEndpoint[];
  private readonly config: OutlierDetectionConfig;
  private readonly now: () => number;
  private readonly setTimer: SetTimer;
  private readonly logger: Logger | undefined;
  private readonly onChange: EjectionListener | undefined;
  private readonly states: OutlierState[];
  /** Most endpoints that may be ejected at once. */
  readonly maxEjected: number;
  private closed = false;
  private total = 0;
  private skipped = 0;

  constructor(options: OutlierDetectorOptions) {
    this.upstream = options.upstream ?? '';
    this.endpoints = options.endpoints;
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? unrefTimer;
    this.logger = options.logger;
    this.onChange = options.onChange;
    this.maxEjected = Math.floor((this.endpoints.length * options.config.max_ejection_percent) / 100);
    const start = this.now();
    this.states = this.endpoints.map(() => ({ failures: 0, returnedAt: start, cancel: null }));
    this.adoptEjections();
  }

  /**
   * Takes over ejections another detector started (a reload that changed the settings):
   * arms this detector's return timer for each ejected endpoint it does not time yet.
   * Called at construction and again when the previous detector is closed at a swap.
   */
  adoptEjections(): void {
    if (this.closed) return;
    const now = this.now();
    for (let i = 0; i < this.endpoints.length; i++) {
      const endpoint = this.endpoints[i];
      const state = this.states[i];
      if (endpoint.ejectedUntil === 0 || state.cancel !== null) continue;
      const remaining = endpoint.ejectedUntil - now;
      if (remaining <= 0) this.restore(endpoint, state);
      else state.cancel = this.setTimer(() => this.restore(endpoint, state), remaining);
    }
  }

  /** Ejections so far (not decayed). */
  get ejectionsTotal(): number {
    return this.total;
  }

  /** Ejections refused because of `max_ejection_percent`. */
  get ejectionsSkipped(): number {
    return this.skipped;
  }

  /** Endpoints ejected now. */
  get ejectedCount(): number {
    let n = 0;
    for (const e of this.endpoints) if (e.ejectedUntil !== 0) n++;
    return n;
  }

  /**
   * Hot path. Records the outcome of one request to `endpoint`. Returns true when this
   * failure ejected it. Endpoints not of this upstream and outcomes while ejected are ignored.
   */
  record(endpoint: UpstreamEndpoint, failed: boolean): boolean {
    const state = this.states[endpoint.index];
    if (state === undefined || this.endpoints[endpoint.index] !== endpoint || this.closed) return false;
    if (endpoint.ejectedUntil !== 0) return false;
    if (!failed) {
      state.failures = 0;
      return false;
    }
    if (++state.failures < this.config.consecutive_failures) return false;
    state.failures = 0;
    return this.eject(endpoint, state);
  }

  /** Cancels return timers. Endpoint state is kept (see the header). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const state of this.states) {
      if (state.cancel !== null) {
        state.cancel();
        state.cancel = null;
      }
    }
  }

  /** Same as `close()`: nothing to wait for. */
  destroy(): void {
    this.close();
  }

  private eject(endpoint: UpstreamEndpoint, state: OutlierState): boolean {
    if (this.ejectedCount >= this.maxEjected) {
      this.skipped++;
      this.logger?.warn(
        { upstream: this.upstream, endpoint: endpoint.address, maxEjectionPercent: this.config.max_ejection_percent },
        'outlier not ejected: max_ejection_percent reached',
      );
      return false;
    }
    const base = this.config.base_ejection_time;
    if (base <= 0) return false;
    const now = this.now();
    if (endpoint.ejections > 0) {
      const healthyPeriods = Math.floor((now - state.returnedAt) / base);
      if (healthyPeriods > 0) endpoint.ejections = Math.max(0, endpoint.ejections - healthyPeriods);
    }
    endpoint.ejections++;
    this.total++;
    const duration = Math.min(base * endpoint.ejections, this.config.max_ejection_time);
    endpoint.ejectedUntil = now + duration;
    refreshAvailability(endpoint);
    state.cancel = this.setTimer(() => this.restore(endpoint, state), duration);
    this.logger?.warn(
      { upstream: this.upstream, endpoint: endpoint.address, ejections: endpoint.ejections, durationMs: duration },
      'upstream endpoint ejected (outlier)',
    );
    this.notify(endpoint, true);
    return true;
  }

  private restore(endpoint: UpstreamEndpoint, state: OutlierState): void {
    state.cancel = null;
    if (this.closed || endpoint.ejectedUntil === 0) return;
    endpoint.ejectedUntil = 0;
    state.failures = 0;
    state.returnedAt = this.now();
    refreshAvailability(endpoint);
    this.logger?.info({ upstream: this.upstream, endpoint: endpoint.address }, 'upstream endpoint returned from ejection');
    this.notify(endpoint, false);
  }

  private notify(endpoint: UpstreamEndpoint, ejected: boolean): void {
    if (this.onChange === undefined) return;
    try {
      this.onChange(endpoint, ejected);
    } catch (err) {
      this.logger?.error({ err, upstream: this.upstream, endpoint: endpoint.address }, 'ejection listener threw');
    }
  }
}

/** Ends every ejection and forgets the multipliers: for an upstream whose
 *  `outlier_detection` was removed on reload (its detector closed, its endpoints kept). */
export function resetOutlierState(endpoints: readonly UpstreamEndpoint[]): void {
  for (const e of endpoints) {
    e.ejectedUntil = 0;
    e.ejections = 0;
    refreshAvailability(e);
  }
}
