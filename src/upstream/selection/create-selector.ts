// Builds the Selector for an upstream's `load_balancer` (cold path: once per upstream
// per snapshot). The endpoint list is copied, so later changes to the caller's array
// do not reach the selector; the endpoint objects themselves are shared, because
// selectors read their live `available`, `inflight` and `latencyEwma`.

import type { HashKeySource, LoadBalancerKind } from '../../config/types.js';
import { LOAD_BALANCERS } from '../../config/defaults.js';
import type { UpstreamEndpoint } from '../endpoint.js';
import type { RandomSource, Selector } from './selector.js';
import { RoundRobinSelector } from './round-robin-selector.js';
import { WeightedSelector } from './weighted-selector.js';
import { LeastConnSelector } from './least-conn-selector.js';
import { RandomSelector } from './random-selector.js';
import { IpHashSelector } from './ip-hash-selector.js';
import { ConsistentHashSelector } from './consistent-hash-selector.js';
import { P2cSelector } from './p2c-selector.js';

export interface SelectorOptions {
  /** Where consistent_hash reads its key; ignored by the other policies. */
  readonly hashKey: HashKeySource;
  /** Virtual nodes per unit of weight for ip_hash and consistent_hash (config default 160). */
  readonly replicas: number;
  /** Used by random and p2c; Math.random in production, seeded in tests. */
  readonly random: RandomSource;
}

/** Every LoadBalancerKind, in the order the docs list them (the config's own list). */
export const LOAD_BALANCER_KINDS: readonly LoadBalancerKind[] = LOAD_BALANCERS;

/**
 * Throws RangeError for a weight that is not a positive finite number or for
 * `replicas` that is not a positive integer: validation should have rejected both,
 * so reaching here is a bug, not a user error.
 */
export function createSelector(
  kind: LoadBalancerKind,
  endpoints: readonly UpstreamEndpoint[],
  options: SelectorOptions,
): Selector {
  for (const e of endpoints) {
    if (!(Number.isFinite(e.weight) && e.weight > 0)) {
      throw new RangeError(`endpoint ${e.address}: weight must be a positive number, got ${e.weight}`);
    }
  }
  // A plain copy, not Object.freeze: V8 reads frozen arrays noticeably slower on the hot path.
  const list = endpoints.slice();
  switch (kind) {
    case 'round_robin':
      return new RoundRobinSelector(list);
    case 'weighted':
      return new WeightedSelector(list);
    case 'least_conn':
      return new LeastConnSelector(list);
    case 'random':
      return new RandomSelector(list, options.random);
    case 'ip_hash':
      return new IpHashSelector(list, checkReplicas(options.replicas));
    case 'consistent_hash':
      return new ConsistentHashSelector(list, options.hashKey, checkReplicas(options.replicas));
    case 'p2c':
      return new P2cSelector(list, options.random);
    default: {
      const never: never = kind;
      throw new RangeError(`unknown load balancer ${JSON.stringify(never)}`);
    }
  }
}

function checkReplicas(replicas: number): number {
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new RangeError(`replicas must be a positive integer, got ${replicas}`);
  }
  return replicas;
}
