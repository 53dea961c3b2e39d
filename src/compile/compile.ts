// Pure: GatewayConfig → CompiledConfig. No sockets, no timers, deterministic, so it is
// cheap to test with golden files and `loom validate` can run it for free.
import type { GatewayConfig, RouteConfig, UpstreamConfig } from '../config/types.js';
import { compileRouter, type Router } from '../router/router.js';

/** A route as the data plane uses it: the config plus precomputed lookups. */
export interface CompiledRoute extends RouteConfig {
  /** Index into `CompiledConfig.upstreams` (and the snapshot's groups). */
  readonly upstreamIndex: number;
}

export interface CompiledConfig {
  readonly config: GatewayConfig;
  readonly routes: readonly CompiledRoute[];
  readonly router: Router<CompiledRoute>;
  readonly upstreams: readonly UpstreamConfig[];
}

export function compile(config: GatewayConfig): CompiledConfig {
  const upstreamIndex = new Map<string, number>();
  config.upstreams.forEach((u, i) => upstreamIndex.set(u.name, i));
  const routes = config.routes.map((route): CompiledRoute => {
    const index = upstreamIndex.get(route.upstream);
    // validate() guarantees this; a failure here is a bug, not a config error.
    if (index === undefined) throw new Error(`route "${route.id}" names unknown upstream "${route.upstream}"`);
    return Object.freeze({ ...route, upstreamIndex: index });
  });
  return Object.freeze({ config, routes, router: compileRouter(routes), upstreams: config.upstreams });
}
