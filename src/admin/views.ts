// JSON shapes of the admin API, built from live state on each request (cold path).
// `GET /upstreams/{name}` follows the seed Upstreams page (`name`, `endpoints[{address,
// healthy}]`, `circuit_breaker`, `active_connections`) and adds what operators need.
import type { CompiledRoute } from '../compile/compile.js';
import type { UpstreamEndpoint } from '../upstream/endpoint.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** `half_open` → `half-open` as the seed writes it; `disabled` when no breaker is configured. */
function breakerState(g: UpstreamGroup): string {
  return g.circuitBreaker === null ? 'disabled' : g.circuitBreaker.state.replace('_', '-');
}

export function endpointView(g: UpstreamGroup, e: UpstreamEndpoint, now = Date.now()) {
  return {
    address: e.address,
    /** Passes active health checks and is not ejected by outlier detection. */
    healthy: e.healthy && e.ejectedUntil === 0,
    /** Receives new requests: healthy and not drained. */
    available: e.available,
    weight: e.weight,
    drained: e.drained,
    active_requests: e.inflight,
    open_connections: g.pools[e.index]?.openConnections ?? 0,
    latency_ewma_ms: Math.round(e.latencyEwma * 100) / 100,
    last_check:
      e.lastCheck === null
        ? null
        : { at: iso(e.lastCheck.at), ok: e.lastCheck.ok, ...(e.lastCheck.status !== undefined ? { status: e.lastCheck.status } : {}), ...(e.lastCheck.error !== undefined ? { error: e.lastCheck.error } : {}) },
    ejected: e.ejectedUntil !== 0,
    ...(e.ejectedUntil !== 0 ? { ejected_for_ms: Math.max(0, e.ejectedUntil - now) } : {}),
    ejections: e.ejections,
  };
}

export function upstreamView(g: UpstreamGroup) {
  const now = Date.now();
  let connections = 0;
  for (const p of g.pools) connections += p.openConnections;
  return {
    name: g.name,
    load_balancer: g.config.load_balancer,
    endpoints: g.endpoints.map((e) => endpointView(g, e, now)),
    circuit_breaker: breakerState(g),
    /** Open connections from Loom to this upstream's endpoints. */
    active_connections: connections,
    active_requests: g.endpoints.reduce((n, e) => n + e.inflight, 0),
    health_check: g.config.health_check !== undefined,
    outlier_detection: g.config.outlier_detection !== undefined,
    ...(g.circuitBreaker !== null ? { circuit_breaker_stats: g.circuitBreaker.snapshot() } : {}),
    ...(g.retryBudget !== null ? { retry_budget: g.retryBudget.snapshot() } : {}),
  };
}

export function routeView(r: CompiledRoute) {
  return {
    id: r.id,
    path: r.path,
    ...(r.host !== undefined ? { host: r.host } : {}),
    methods: r.methods ?? [],
    ...(r.headers !== undefined ? { headers: r.headers } : {}),
    ...(r.query !== undefined ? { query: r.query } : {}),
    priority: r.priority,
    upstream: r.upstream,
    strip_prefix: r.strip_prefix,
    ...(r.timeout !== undefined ? { timeout_ms: r.timeout } : {}),
    retry_non_idempotent: r.retry_non_idempotent,
  };
}
