/** Config reload counters, owned by the Gateway; the reloader counts, the admin API and metrics read. */
export interface ReloadStats {
  successes: number;
  failures: number;
  /** ms since the epoch of the last load that succeeded (the first start counts) / failed; 0 = never. */
  lastSuccessAt: number;
  lastFailureAt: number;
}

export function newReloadStats(): ReloadStats {
  return { successes: 0, failures: 0, lastSuccessAt: 0, lastFailureAt: 0 };
}
