// One upstream as the data plane sees it: its endpoints (runtime state), the selector
// that picks among them, one connection pool per endpoint, and the resilience state
// (health checker, outlier detector, circuit breaker, retry budget) when configured.
// Everything stateful here comes from the StateRegistry, so it survives reloads that do
// not change it.
import type { UpstreamConfig } from '../config/types.js';
import type { RetryBudget } from '../proxy/retry-budget.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { UpstreamEndpoint } from './endpoint.js';
import type { EndpointPool } from './endpoint-pool.js';
import type { ActiveHealthChecker } from './health/active-health-checker.js';
import type { OutlierDetector } from './health/outlier-detector.js';
import type { Selector } from './selection/selector.js';

export interface UpstreamGroup {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly endpoints: readonly UpstreamEndpoint[];
  readonly selector: Selector;
  /** `pools[endpoint.index]` */
  readonly pools: readonly EndpointPool[];
  /** True when requests carry the endpoint's `host:port` as Host (`host_header: endpoint`). */
  readonly sendEndpointHost: boolean;
  readonly healthChecker: ActiveHealthChecker | null;
  readonly outlierDetector: OutlierDetector | null;
  readonly circuitBreaker: CircuitBreaker | null;
  /** Non-null exactly when `config.retry` is set. */
  readonly retryBudget: RetryBudget | null;
}
