// A Snapshot is one compiled config made live: its upstream groups hold endpoints and
// pools acquired from the StateRegistry. Requests pin the snapshot they started on.
// Two kinds of state are released at different times when a snapshot is replaced:
//   - controllers (health checkers, outlier detectors) at the swap (`releaseControls`),
//     so a changed one stops probing and ejecting at once instead of competing with its
//     successor for the same endpoints while old requests drain;
//   - everything else (endpoints, pools, breakers, budgets) when the last pinned request
//     has finished (`release`).
import type { Tracing } from '../observability/tracing.js';
import type { Logger } from 'pino';
import type { CompiledConfig } from '../compile/compile.js';
import { RetryBudget } from '../proxy/retry-budget.js';
import { CircuitBreaker } from '../upstream/circuit-breaker.js';
import { ActiveHealthChecker, resetActiveHealth } from '../upstream/health/active-health-checker.js';
import { OutlierDetector, resetOutlierState } from '../upstream/health/outlier-detector.js';
import type { UpstreamConfig } from '../config/types.js';
import { createEndpoint, inheritEndpointState, splitHostPort, type UpstreamEndpoint } from '../upstream/endpoint.js';
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
  /** The live Tracing when `tracing.enabled`, else null. Set by the Gateway before the swap; owned by it. */
  tracing: Tracing | null = null;
  private readonly registryKeys: string[] = [];
  private readonly controlKeys: string[] = [];
  private readonly registry: StateRegistry;
  private drained: { promise: Promise<void>; resolve: () => void } | null = null;

  private readonly logger: Logger;

  constructor(compiled: CompiledConfig, registry: StateRegistry, random: RandomSource, logger: Logger) {
    this.compiled = compiled;
    this.registry = registry;
    this.logger = logger;
    try {
      this.groups = compiled.upstreams.map((u) => this.buildGroup(u, random));
    } catch (err) {
      // A partial build must not leak what it acquired (a started health checker, pools).
      void this.release();
      throw err;
    }
  }

  private buildGroup(config: UpstreamConfig, random: RandomSource): UpstreamGroup {
    const logger = this.logger;
    // Endpoint state and pools are keyed by everything that shapes them, so an unchanged
    // upstream finds its own again after a reload and a changed one starts fresh.
    const poolShape = JSON.stringify([config.pool, config.timeout]);
    const endpoints: UpstreamEndpoint[] = [];
    const pools: EndpointPool[] = [];
    config.endpoints.forEach((address, index) => {
      const weight = config.weights[address] ?? 1;
      // Position and weight are part of the key (selectors and the outlier detector read
      // them from the object); a moved or reweighted endpoint inherits its health.
      const endpointKey = `endpoint|${config.name}|${address}|${index}|${weight}`;
      endpoints.push(
        this.acquire(
          endpointKey,
          () => {
            const endpoint = createEndpoint(address, index, weight);
            const known = this.registry.findByPrefix<UpstreamEndpoint>(`endpoint|${config.name}|${address}|`);
            if (known !== undefined) inheritEndpointState(endpoint, known);
            return endpoint;
          },
          () => undefined,
        ),
      );
      const poolKey = `pool|${config.name}|${address}|${poolShape}`;
      pools.push(
        this.acquire(
          poolKey,
          () => new EndpointPool({ ...splitHostPort(address), address, pool: config.pool, timeout: config.timeout }),
          (pool) => pool.close(),
        ),
      );
    });
    const selector = createSelector(config.load_balancer, endpoints, {
      hashKey: config.consistent_hash.hash_key,
      replicas: config.consistent_hash.replicas,
      random,
    });
    // Resilience state, keyed by what shapes it (the endpoint set and its own settings).
    const endpointSet = JSON.stringify(config.endpoints.map((a) => [a, config.weights[a] ?? 1]));
    const hc = config.health_check;
    const healthChecker =
      hc === undefined
        ? null
        : this.acquire(
            `health|${config.name}|${endpointSet}|${JSON.stringify(hc)}`,
            () => {
              const checker = new ActiveHealthChecker({ upstream: config.name, endpoints, config: hc, logger });
              checker.start();
              return checker;
            },
            (checker) => checker.close(),
            true,
          );
    if (hc === undefined) resetActiveHealth(endpoints.filter((e) => !e.healthy));
    const od = config.outlier_detection;
    const outlierDetector =
      od === undefined
        ? null
        : this.acquire(
            `outlier|${config.name}|${endpointSet}|${JSON.stringify(od)}`,
            () => new OutlierDetector({ upstream: config.name, endpoints, config: od, logger }),
            (detector) => detector.close(),
            true,
          );
    if (od === undefined) resetOutlierState(endpoints.filter((e) => e.ejectedUntil !== 0));
    const cb = config.circuit_breaker;
    const circuitBreaker =
      cb === undefined
        ? null
        : this.acquire(
            `breaker|${config.name}|${JSON.stringify(cb)}`,
            () =>
              new CircuitBreaker(cb, Date.now, (from, to) =>
                logger[to === 'open' ? 'warn' : 'info']({ upstream: config.name, from, to }, `circuit breaker ${to}`),
              ),
            () => undefined,
          );
    const rc = config.retry;
    const retryBudget =
      rc === undefined
        ? null
        : this.acquire(`budget|${config.name}|${rc.budget_percent}|${rc.min_retry_concurrency}`, () => new RetryBudget(rc.budget_percent, rc.min_retry_concurrency), () => undefined);
    return Object.freeze({
      name: config.name,
      config,
      endpoints,
      selector,
      pools,
      sendEndpointHost: config.host_header === 'endpoint',
      healthChecker,
      outlierDetector,
      circuitBreaker,
      retryBudget,
    });
  }

  private acquire<T>(key: string, create: () => T, dispose: (value: T) => Promise<void> | void, control = false): T {
    (control ? this.controlKeys : this.registryKeys).push(key);
    return this.registry.acquire(key, create, dispose);
  }

  /**
   * At the swap that replaces this snapshot: stops the controllers the new snapshot does
   * not share (the registry disposes them), then lets the new snapshot's detectors take
   * over any ejection the old ones started.
   */
  async releaseControls(next: Snapshot): Promise<void> {
    const keys = this.controlKeys.splice(0);
    await Promise.all(keys.map((k) => this.registry.release(k)));
    for (const g of next.groups) g.outlierDetector?.adoptEjections();
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
    const keys = [...this.controlKeys.splice(0), ...this.registryKeys.splice(0)];
    await Promise.all(keys.map((k) => this.registry.release(k)));
  }
}
