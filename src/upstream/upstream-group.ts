// One upstream as the data plane sees it: its endpoints (runtime state), the selector
// that picks among them and one connection pool per endpoint.
import type { UpstreamConfig } from '../config/types.js';
import type { UpstreamEndpoint } from './endpoint.js';
import type { EndpointPool } from './endpoint-pool.js';
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
}
