// A consistent-hash ring (Karger et al.; the ketama layout): every endpoint owns
// `replicas × weight` virtual nodes at hash32(`${address}#${r}`), kept sorted in a
// Uint32Array. A key goes to the first node clockwise from its hash (binary search).
//
// Because a node's position depends only on the endpoint's address and replica
// number, rebuilding the ring without one endpoint leaves every other node where it
// was: only the keys that the removed endpoint owned move (about 1/N of them), and
// they move only to other endpoints. Unavailable or excluded endpoints are skipped
// by walking clockwise, which gives the same result as if the ring had been
// rebuilt without them.
//
// Size: at most MAX_RING_POINTS nodes (8 bytes each). Above that every endpoint's
// node count is scaled down in proportion (at least one node each), which keeps the
// weight ratio but moves more keys when weights change.

import type { UpstreamEndpoint } from '../endpoint.js';
import { hash32 } from './hash32.js';
import { excludeFallback } from './exclude-fallback.js';

/** Cap on virtual nodes per ring (1 MiB of typed arrays). */
export const MAX_RING_POINTS = 1 << 17;

/** 2^21: room for the endpoint rank below a 32-bit hash inside a double's 53 bits. */
const RANK_SPACE = 2 ** 21;

export class HashRing {
  private readonly endpoints: readonly UpstreamEndpoint[];
  /** Sorted node hashes. */
  private readonly points: Uint32Array;
  /** owners[i] = position in `endpoints` of the node at points[i]. */
  private readonly owners: Uint32Array;
  /** Per-endpoint visit stamp for the clockwise walk (avoids re-checking an owner). */
  private readonly seen: Uint32Array;
  private generation = 0;

  constructor(endpoints: readonly UpstreamEndpoint[], replicas: number) {
    this.endpoints = endpoints;
    const n = endpoints.length;
    if (n >= RANK_SPACE) throw new RangeError(`too many endpoints for one hash ring: ${n}`);
    let total = 0;
    for (const e of endpoints) total += replicas * e.weight;
    const scale = total > MAX_RING_POINTS ? MAX_RING_POINTS / total : 1;
    const counts = endpoints.map((e) => Math.max(1, Math.floor(replicas * e.weight * scale)));
    const size = counts.reduce((a, b) => a + b, 0);

    // Each node packed as hash × 2^21 + rank, sorted as plain numbers (a typed-array
    // sort, no comparator): by hash, and on an exact hash collision by the endpoint's
    // rank in address order, so the order never depends on the endpoint list's order.
    const byAddress = endpoints.map((_, i) => i).sort((a, b) => {
      const aa = endpoints[a].address;
      const ba = endpoints[b].address;
      return aa < ba ? -1 : aa > ba ? 1 : a - b;
    });
    const packed = new Float64Array(size);
    let k = 0;
    for (let rank = 0; rank < n; rank++) {
      const i = byAddress[rank];
      const address = endpoints[i].address;
      for (let r = 0; r < counts[i]; r++) packed[k++] = hash32(`${address}#${r}`) * RANK_SPACE + rank;
    }
    packed.sort();
    this.points = new Uint32Array(size);
    this.owners = new Uint32Array(size);
    for (let j = 0; j < size; j++) {
      const rank = packed[j] % RANK_SPACE;
      this.points[j] = (packed[j] - rank) / RANK_SPACE;
      this.owners[j] = byAddress[rank];
    }
    this.seen = new Uint32Array(n);
  }

  /** Number of virtual nodes (for tests and diagnostics). */
  get size(): number {
    return this.points.length;
  }

  /**
   * The first available endpoint other than `exclude` clockwise from `hash`;
   * `exclude` itself when it is the only one available; undefined when none is.
   * Hot path: binary search plus, when the owner is unavailable, a walk that visits
   * each endpoint at most once. No allocation.
   */
  lookup(hash: number, exclude: UpstreamEndpoint | undefined): UpstreamEndpoint | undefined {
    const points = this.points;
    const n = points.length;
    if (n === 0) return undefined;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < hash) lo = mid + 1;
      else hi = mid;
    }
    let i = lo === n ? 0 : lo;
    const owners = this.owners;
    const endpoints = this.endpoints;
    const first = endpoints[owners[i]];
    if (first.available && first !== exclude) return first;

    let gen = ++this.generation;
    if (gen === 0xffffffff) {
      this.seen.fill(0);
      this.generation = gen = 1;
    }
    const seen = this.seen;
    const m = endpoints.length;
    seen[owners[i]] = gen;
    let distinct = 1;
    for (let step = 1; step < n && distinct < m; step++) {
      if (++i === n) i = 0;
      const o = owners[i];
      if (seen[o] === gen) continue;
      seen[o] = gen;
      distinct++;
      const e = endpoints[o];
      if (e.available && e !== exclude) return e;
    }
    return excludeFallback(endpoints, exclude);
  }
}
