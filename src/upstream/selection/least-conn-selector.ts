// least_conn: nginx's least_conn. The endpoint with the fewest in-flight requests
// per unit of weight wins (compared as inflight_a × weight_b < inflight_b × weight_a,
// exact in integers). When several tie (an idle upstream: all at 0), nginx runs
// smooth weighted round robin among the tied ones, and so does this, so idle traffic
// rotates (in proportion to weight) instead of piling onto the first endpoint.
// Hot path: two O(n) passes at most, no allocation.

import type { UpstreamEndpoint } from '../endpoint.js';
import type { SelectionInput, Selector } from './selector.js';
import { excludeFallback } from './exclude-fallback.js';

export class LeastConnSelector implements Selector {
  private readonly endpoints: readonly UpstreamEndpoint[];
  /** Smooth-weighted-round-robin state for breaking ties. */
  private readonly current: Float64Array;

  constructor(endpoints: readonly UpstreamEndpoint[]) {
    this.endpoints = endpoints;
    this.current = new Float64Array(endpoints.length);
  }

  select(_input: SelectionInput, exclude?: UpstreamEndpoint): UpstreamEndpoint | undefined {
    const endpoints = this.endpoints;
    const n = endpoints.length;
    let best = -1;
    let bestInflight = 0;
    let bestWeight = 1;
    let tied = false;
    for (let i = 0; i < n; i++) {
      const e = endpoints[i];
      if (!e.available || e === exclude) continue;
      if (best < 0) {
        best = i;
        bestInflight = e.inflight;
        bestWeight = e.weight;
        tied = false;
        continue;
      }
      const lhs = e.inflight * bestWeight;
      const rhs = bestInflight * e.weight;
      if (lhs < rhs) {
        best = i;
        bestInflight = e.inflight;
        bestWeight = e.weight;
        tied = false;
      } else if (lhs === rhs) {
        tied = true;
      }
    }
    if (best < 0) return excludeFallback(endpoints, exclude);
    if (!tied) return endpoints[best];

    const current = this.current;
    let pick = -1;
    let total = 0;
    for (let i = best; i < n; i++) {
      const e = endpoints[i];
      if (!e.available || e === exclude) continue;
      if (e.inflight * bestWeight !== bestInflight * e.weight) continue;
      current[i] += e.weight;
      total += e.weight;
      if (pick < 0 || current[i] > current[pick]) pick = i;
    }
    current[pick] -= total;
    return endpoints[pick];
  }
}
