// ip_hash: the client IP on a consistent-hash ring (see hash-ring.ts), so the same
// client keeps its endpoint and removing one of N endpoints moves about 1/N of the
// clients. Unlike nginx's ip_hash, the whole address is hashed (nginx uses the first
// three IPv4 octets, which sends a whole /24 — often one NAT or office — to one
// endpoint), and `::ffff:a.b.c.d` is hashed as `a.b.c.d`. When the client's endpoint
// is unavailable (or excluded), the next one clockwise on the ring takes it.
// Hot path: one hash and a binary search, no allocation.

import type { UpstreamEndpoint } from '../endpoint.js';
import type { SelectionInput, Selector } from './selector.js';
import { HashRing } from './hash-ring.js';
import { hashClientIp } from './hash-key.js';

export class IpHashSelector implements Selector {
  private readonly ring: HashRing;

  constructor(endpoints: readonly UpstreamEndpoint[], replicas: number) {
    this.ring = new HashRing(endpoints, replicas);
  }

  select(input: SelectionInput, exclude?: UpstreamEndpoint): UpstreamEndpoint | undefined {
    return this.ring.lookup(hashClientIp(input.clientIp), exclude);
  }
}
