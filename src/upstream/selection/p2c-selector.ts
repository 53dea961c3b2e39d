// p2c: power of two choices (Mitzenmacher), as Envoy's LEAST_REQUEST and Linkerd's
// peak-EWMA balancer use it. Two distinct candidates are drawn from the available
// endpoints (other than `exclude`), in proportion to weight (uniformly when weights
// are equal); the one with the lower cost wins, the first drawn on a tie, so equal
// endpoints share traffic evenly and idle ones in proportion to weight.
//
//   cost = (inflight / weight + 1) × latency
//
// With equal weights this orders candidates exactly as (inflight + 1) × latency.
// Weight divides only the in-flight term (a heavier endpoint carries proportionally
// more requests at the same cost, as in least_conn); dividing the whole cost by
// weight would make a heavier idle endpoint win every comparison it is part of and
// starve the lighter ones of traffic.
// latency is the endpoint's latencyEwma. An endpoint without a sample yet borrows the
// other candidate's latency (the comparison then rests on inflight alone), and when
// neither has one both use DEFAULT_LATENCY_MS: a fixed small default would make a
// fresh endpoint look far cheaper than its warm peers and draw a burst before its
// first response arrives.
// Hot path: three O(n) passes and two random draws, no allocation.

import type { UpstreamEndpoint } from '../endpoint.js';
import type { RandomSource, SelectionInput, Selector } from './selector.js';
import { excludeFallback } from './exclude-fallback.js';

/** Latency assumed when neither candidate has a sample yet, ms. */
export const DEFAULT_LATENCY_MS = 1;

export class P2cSelector implements Selector {
  private readonly endpoints: readonly UpstreamEndpoint[];
  private readonly random: RandomSource;

  constructor(endpoints: readonly UpstreamEndpoint[], random: RandomSource) {
    this.endpoints = endpoints;
    this.random = random;
  }

  select(_input: SelectionInput, exclude?: UpstreamEndpoint): UpstreamEndpoint | undefined {
    const endpoints = this.endpoints;
    const n = endpoints.length;
    let count = 0;
    let total = 0;
    let last: UpstreamEndpoint | undefined;
    for (let i = 0; i < n; i++) {
      const e = endpoints[i];
      if (e.available && e !== exclude) {
        count++;
        total += e.weight;
        last = e;
      }
    }
    if (last === undefined) return excludeFallback(endpoints, exclude);
    if (count === 1) return last;

    const a = this.draw(this.random() * total, exclude, undefined);
    const b = this.draw(this.random() * (total - a.weight), exclude, a);
    const latA = a.latencyEwma > 0 ? a.latencyEwma : b.latencyEwma > 0 ? b.latencyEwma : DEFAULT_LATENCY_MS;
    const latB = b.latencyEwma > 0 ? b.latencyEwma : latA;
    const costA = (a.inflight / a.weight + 1) * latA;
    const costB = (b.inflight / b.weight + 1) * latB;
    return costB < costA ? b : a;
  }

  /** The candidate at weight offset `r` among those not excluded and not `skip`. */
  private draw(r: number, exclude: UpstreamEndpoint | undefined, skip: UpstreamEndpoint | undefined): UpstreamEndpoint {
    const endpoints = this.endpoints;
    let last: UpstreamEndpoint | undefined;
    for (let i = 0; i < endpoints.length; i++) {
      const e = endpoints[i];
      if (!e.available || e === exclude || e === skip) continue;
      r -= e.weight;
      if (r < 0) return e;
      last = e;
    }
    // Reached only through floating-point rounding at r ≈ total; select() ensures a candidate exists.
    return last as UpstreamEndpoint;
  }
}
