// A Snapshot is one compiled config made live: its upstream groups hold endpoints and
// pools acquired from the StateRegistry. Requests pin the snapshot they started on;
// `dispose` waits for the pinned count to reach zero before releasing its state.
import type { CompiledConfig } from '../compile/compile.js';
import type { UpstreamConfig } from '../config/types.js';
import { createEndpoint, type UpstreamEndpoint } from '../upstream/endpoint.js';
import { EndpointPool } from '../upstream/endpoint-pool.js';
import { createSelector } from '../upstream/selection/create-selector.js';
import type { RandomSource } from '../upstream/selection/selector.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import type { StateRegistry } from './state-registry.js';

export class Snapshot {
  readonly compiled: CompiledConfig;
  /** `groups[route.upstreamIndex]` */
  readonly groups: readonly UpstreamGroup[];
  /** Requests that started on this snapshot and have not finished. */
  inflight = 0;
  private readonly registryKeys: string[];
  private readonly registry: StateRegistry;
  private drained: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(compiled: CompiledConfig, registry: StateRegistry, random: RandomSource) {
    this.compiled = compiled;
    this.registry = registry;
    this.registryKeys = [];
    this.groups = compiled.upstreams.map((u) => this.buildGroup(u, random));
  }

  private buildGroup(config: UpstreamConfig, random: RandomSource): UpstreamGroup {
    // Endpoint state and pools are keyed by everything that shapes them, so an unchanged
    // upstream finds its own again after a reload and a changed one starts fresh.
    const poolShape = JSON.stringify([config.pool, config.timeout]);
    const endpoints: UpstreamEndpoint[] = [];
    const pools: EndpointPool[] = [];
    config.endpoints.forEach((address, index) => {
      const weight = config.weights[address] ?? 1;
      const endpointKey = `endpoint|${config.name}|${address}|${index}|${weight}`;
      endpoints.push(this.acquire(endpointKey, () => createEndpoint(address, index, weight), () => undefined));
      const poolKey = `pool|${config.name}|${address}|${poolShape}`;
      pools.push(
        this.acquire(
          poolKey,
          () => new EndpointPool({ origin: `http://${address}`, pool: config.pool, timeout: config.timeout }),
          (pool) => pool.close(),
        ),
      );
    });
    const selector = createSelector(config.load_balancer, endpoints, {
      hashKey: config.consistent_hash.hash_key,
      replicas: config.consistent_hash.replicas,
      random,
    });
    return Object.freeze({
      name: config.name,
      config,
      endpoints,
      selector,
      pools,
      sendEndpointHost: config.host_header === 'endpoint',
    });
  }

  private acquire<T>(key: string, create: () => T, dispose: (value: T) => Promise<void> | void): T {
    this.registryKeys.push(key);
    return this.registry.acquire(key, create, dispose);
  }

  /** Hot path: called when a request that pinned this snapshot finishes. */
  unpin(): void {
    if (--this.inflight === 0 && this.drained !== null) {
      this.drained.resolve();
      this.drained = null;
    }
  }

  /** Resolves when no request is pinned to this snapshot any more (any number of waiters). */
  whenDrained(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    if (this.drained === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  /** Releases the registry state this snapshot holds (pools close when no snapshot uses them). */
  async release(): Promise<void> {
    const keys = this.registryKeys.splice(0);
    await Promise.all(keys.map((k) => this.registry.release(k)));
  }
}
