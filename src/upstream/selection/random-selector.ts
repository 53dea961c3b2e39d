// random: one draw from the injected RandomSource, uniform over the available
// endpoints (other than `exclude`) when their weights are equal, in proportion to
// weight otherwise. Hot path: two O(n) passes, no allocation.

import type { UpstreamEndpoint } from '../endpoint.js';
import type { RandomSource, SelectionInput, Selector } from './selector.js';
import { excludeFallback } from './exclude-fallback.js';

export class RandomSelector implements Selector {
  private readonly endpoints: readonly UpstreamEndpoint[];
  private readonly random: RandomSource;

  constructor(endpoints: readonly UpstreamEndpoint[], random: RandomSource) {
    this.endpoints = endpoints;
    this.random = random;
  }

  select(_input: SelectionInput, exclude?: UpstreamEndpoint): UpstreamEndpoint | undefined {
    const endpoints = this.endpoints;
    const n = endpoints.length;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const e = endpoints[i];
      if (e.available && e !== exclude) total += e.weight;
    }
    if (total === 0) return excludeFallback(endpoints, exclude);
    let r = this.random() * total;
    let last: UpstreamEndpoint | undefined;
    for (let i = 0; i < n; i++) {
      const e = endpoints[i];
      if (!e.available || e === exclude) continue;
      r -= e.weight;
      if (r < 0) return e;
      last = e;
    }
    return last; // only reached through floating-point rounding at r ≈ total
  }
}
