// round_robin: endpoints in list order, 1 → 2 → 3 → 1 …, skipping unavailable ones
// (and `exclude`). Weights are ignored: weighted rotation is the `weighted` policy.
// Hot path: O(n) worst case (all but one unavailable), O(1) typical; no allocation.

import type { UpstreamEndpoint } from '../endpoint.js';
import type { SelectionInput, Selector } from './selector.js';
import { excludeFallback } from './exclude-fallback.js';

export class RoundRobinSelector implements Selector {
  private readonly endpoints: readonly UpstreamEndpoint[];
  /** Position to try first on the next call. */
  private cursor = 0;

  constructor(endpoints: readonly UpstreamEndpoint[]) {
    this.endpoints = endpoints;
  }

  select(_input: SelectionInput, exclude?: UpstreamEndpoint): UpstreamEndpoint | undefined {
    const endpoints = this.endpoints;
    const n = endpoints.length;
    let i = this.cursor;
    for (let k = 0; k < n; k++) {
      const e = endpoints[i];
      if (++i === n) i = 0;
      if (e.available && e !== exclude) {
        this.cursor = i;
        return e;
      }
    }
    return excludeFallback(endpoints, exclude);
  }
}
