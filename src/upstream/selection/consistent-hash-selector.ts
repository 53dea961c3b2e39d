// consistent_hash: a key read from the request (header, cookie, query parameter or
// client IP; see hash-key.ts, which falls back to the client IP when the key is
// missing) placed on a consistent-hash ring with `replicas` virtual nodes per unit of
// weight (see hash-ring.ts). Removing one of N endpoints moves about 1/N of the keys,
// all of them away from the removed endpoint. Unavailable or excluded endpoints are
// skipped clockwise. Hot path: one in-place key scan, one hash, a binary search.

import type { HashKeySource } from '../../config/types.js';
import type { UpstreamEndpoint } from '../endpoint.js';
import type { SelectionInput, Selector } from './selector.js';
import { HashRing } from './hash-ring.js';
import { HashKeyReader } from './hash-key.js';

export class ConsistentHashSelector implements Selector {
  private readonly ring: HashRing;
  private readonly key: HashKeyReader;

  constructor(endpoints: readonly UpstreamEndpoint[], hashKey: HashKeySource, replicas: number) {
    this.ring = new HashRing(endpoints, replicas);
    this.key = new HashKeyReader(hashKey);
  }

  select(input: SelectionInput, exclude?: UpstreamEndpoint): UpstreamEndpoint | undefined {
    return this.ring.lookup(this.key.hash(input), exclude);
  }
}
