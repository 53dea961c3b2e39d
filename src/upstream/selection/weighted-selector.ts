// weighted: nginx's smooth weighted round robin (ngx_http_upstream_get_peer). On each
// call every available endpoint's current weight grows by its weight; the largest
// wins (the first in list order on a tie) and loses the sum of the weights. 5:1:1
// gives a a b a c a a: the heavy endpoint's picks are spread out, not bunched.
// nginx also lowers an "effective weight" after failures; Loom leaves that to health
// checks and ejection (an unhealthy endpoint is unavailable), so effective = weight.
// Unavailable endpoints and `exclude` sit the round out, as nginx's "tried" peers do.
// Hot path: O(n), no allocation.

import type { UpstreamEndpoint } from '../endpoint.js';
import type { SelectionInput, Selector } from './selector.js';
import { excludeFallback } from './exclude-fallback.js';

export class WeightedSelector implements Selector {
  private readonly endpoints: readonly UpstreamEndpoint[];
  private readonly current: Float64Array;

  constructor(endpoints: readonly UpstreamEndpoint[]) {
    this.endpoints = endpoints;
    this.current = new Float64Array(endpoints.length);
  }

  select(_input: SelectionInput, exclude?: UpstreamEndpoint): UpstreamEndpoint | undefined {
    const endpoints = this.endpoints;
    const current = this.current;
    let best = -1;
    let total = 0;
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i];
      if (!e.available || e === exclude) continue;
      current[i] += e.weight;
      total += e.weight;
      if (best < 0 || current[i] > current[best]) best = i;
    }
    if (best < 0) return excludeFallback(endpoints, exclude);
    current[best] -= total;
    return endpoints[best];
  }
}
