// Retry budget, one per upstream, after Envoy's `retry_budget`: retries may be at most
// `budgetPercent` % of the requests in flight to the upstream, but `minRetryConcurrency`
// concurrent retries are always allowed (so a quiet upstream can still retry).
// This bounds retry storms: when an upstream fails everything, retries add at most
// budgetPercent % load instead of multiplying it by (1 + max_retries).
//
// Counting (decision): `active` counts client requests handled by the upstream —
// requestStarted when the proxy loop begins, requestFinished when it ends, however many
// tries it made — and a running retry is counted in both. Plain counters, no clock;
// the state is meant to live in the state registry so it survives reloads.

export interface RetryBudgetSnapshot {
  readonly active_requests: number;
  readonly active_retries: number;
  readonly max_retries_now: number;
}

export class RetryBudget {
  private readonly percent: number;
  private readonly minConcurrency: number;
  private active = 0;
  private retries = 0;

  constructor(budgetPercent: number, minRetryConcurrency: number) {
    this.percent = Math.min(100, Math.max(0, budgetPercent));
    this.minConcurrency = Math.max(0, Math.floor(minRetryConcurrency));
  }

  get activeRequests(): number {
    return this.active;
  }

  get activeRetries(): number {
    return this.retries;
  }

  /** Retries allowed at once right now: max(minRetryConcurrency, floor(active × percent / 100)). */
  get maxRetries(): number {
    return Math.max(this.minConcurrency, Math.floor((this.active * this.percent) / 100));
  }

  requestStarted(): void {
    this.active++;
  }

  /** Unbalanced calls are clamped at zero rather than driving the count negative. */
  requestFinished(): void {
    if (this.active > 0) this.active--;
  }

  /**
   * Hot path. Takes a retry slot when one is free; a `true` must be paired with one
   * retryFinished(). An arrow property, so it can be passed unbound as
   * `decideRetry({ budgetAllows: budget.tryStartRetry, … })`.
   */
  readonly tryStartRetry = (): boolean => {
    if (this.retries >= this.maxRetries) return false;
    this.retries++;
    return true;
  };

  retryFinished(): void {
    if (this.retries > 0) this.retries--;
  }

  snapshot(): RetryBudgetSnapshot {
    return { active_requests: this.active, active_retries: this.retries, max_retries_now: this.maxRetries };
  }
}
