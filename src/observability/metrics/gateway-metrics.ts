// Loom's Prometheus metrics. Process-wide: one instance per Gateway, kept across reloads,
// so counters only ever grow (series of a removed route stay until restart, which is what
// Prometheus expects of counters). Label values are route ids, upstream names, endpoint
// addresses from the config, a fixed method list and status codes: never raw paths, so
// cardinality is bounded by the config.
//
// Request-path cost: onExchangeEnd and onTryEnd do a few Map lookups, integer adds and two
// bucket searches (~0.1 µs per request measured in isolation); everything else (health,
// breaker state, connections, in-flight, reloads) is read from live state when scraped.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ReloadStats } from '../../runtime/reload-stats.js';
import type { UpstreamGroup } from '../../upstream/upstream-group.js';
import { VERSION } from '../../version.js';
import { CollectedMetric } from './collected-metric.js';
import { HistogramSeries, type MetricValue } from './histogram.js';

/** What the metrics read at scrape time. The Gateway provides it. */
export interface MetricsStateSource {
  /** Upstream groups of the live config (empty before the first one). */
  liveGroups(): readonly UpstreamGroup[];
  /** Open client connections per data-plane listener name. */
  listenerConnections(): Iterable<readonly [string, number]>;
  /** Requests being served, on every snapshot. */
  readonly inflight: number;
  readonly reloadStats: ReloadStats;
}

/** Methods that get their own label value; anything else is counted as `OTHER`. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'OTHER'] as const;
const OTHER = METHODS.length - 1;

function methodIndex(method: string): number {
  const i = (METHODS as readonly string[]).indexOf(method);
  return i < 0 ? OTHER : i;
}

/** Route label of requests that matched no route (404, 405, 400 before routing). */
export const UNMATCHED_ROUTE = '';

class RouteSeries {
  /** methodIndex * 1000 + status → count. */
  readonly counts = new Map<number, number>();
  readonly durations: (HistogramSeries | undefined)[] = [];
}

class EndpointSeries {
  success = 0;
  failure = 0;
  readonly errors = new Map<string, number>();
  readonly duration = new HistogramSeries();
}

class UpstreamSeries {
  retries = 0;
  readonly endpoints = new Map<string, EndpointSeries>();
}

/** `LOOM_ERR_CONNECT_REFUSED` → `connect_refused`. */
function errorType(code: string): string {
  return code.startsWith('LOOM_ERR_') ? code.slice(9).toLowerCase() : code.toLowerCase();
}

/** One finished request, as the metrics read it (ProxyExchange satisfies it). */
export interface RecordedExchange {
  readonly route: { readonly id: string } | null;
  readonly group: { readonly name: string } | null;
  readonly req: { readonly method?: string };
  readonly status: number;
  readonly tries: number;
  /** Milliseconds from arrival to the end of the response. */
  readonly durationMs: number;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly routes = new Map<string, RouteSeries>();
  private readonly upstreams = new Map<string, UpstreamSeries>();
  private readonly state: MetricsStateSource;

  constructor(state: MetricsStateSource) {
    this.state = state;
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    new CollectedMetric(r, 'loom_info', 'Loom build information (always 1).', 'gauge', (out) => {
      out.push({ labels: { version: VERSION, node: process.version }, value: 1 });
    });
    new CollectedMetric(r, 'loom_requests_total', 'Requests answered, by route id (empty: no route matched), method and status.', 'counter', (out) => {
      for (const [route, s] of this.routes) {
        for (const [key, value] of s.counts) {
          out.push({ labels: { route, method: METHODS[Math.floor(key / 1000)], status: String(key % 1000) }, value });
        }
      }
    });
    new CollectedMetric(r, 'loom_request_duration_seconds', 'Time from request arrival to the end of the response, by route and method.', 'histogram', (out) => {
      for (const [route, s] of this.routes) {
        s.durations.forEach((h, m) => h?.appendValues(out, 'loom_request_duration_seconds', { route, method: METHODS[m] }));
      }
    });
    new CollectedMetric(r, 'loom_upstream_requests_total', 'Upstream tries by outcome: success (a response below 500) or failure (5xx or no response; tries the client abandoned are not counted).', 'counter', (out) => {
      for (const [upstream, u] of this.upstreams) {
        for (const [endpoint, e] of u.endpoints) {
          out.push({ labels: { upstream, endpoint, status: 'success' }, value: e.success });
          out.push({ labels: { upstream, endpoint, status: 'failure' }, value: e.failure });
        }
      }
    });
    new CollectedMetric(r, 'loom_upstream_errors_total', 'Upstream tries that got no (complete) response, by error type (connect_refused, upstream_timeout, …).', 'counter', (out) => {
      for (const [upstream, u] of this.upstreams) {
        for (const [endpoint, e] of u.endpoints) {
          for (const [error_type, value] of e.errors) out.push({ labels: { upstream, endpoint, error_type }, value });
        }
      }
    });
    new CollectedMetric(r, 'loom_upstream_duration_seconds', 'Time of one upstream try, from dispatch to the end of its response.', 'histogram', (out) => {
      for (const [upstream, u] of this.upstreams) {
        for (const [endpoint, e] of u.endpoints) e.duration.appendValues(out, 'loom_upstream_duration_seconds', { upstream, endpoint });
      }
    });
    new CollectedMetric(r, 'loom_retries_total', 'Retries started (tries after the first), by upstream.', 'counter', (out) => {
      for (const [upstream, u] of this.upstreams) out.push({ labels: { upstream }, value: u.retries });
    });
    this.registerStateGauges();
  }

  private registerStateGauges(): void {
    const r = this.registry;
    const perEndpoint = (read: (g: UpstreamGroup, e: UpstreamGroup['endpoints'][number]) => number | undefined) => (out: MetricValue[]) => {
      for (const g of this.state.liveGroups()) {
        for (const e of g.endpoints) {
          const value = read(g, e);
          if (value !== undefined) out.push({ labels: { upstream: g.name, endpoint: e.address }, value });
        }
      }
    };
    new CollectedMetric(r, 'loom_upstream_health', 'Whether an endpoint is in rotation (1): healthy, not ejected, not drained.', 'gauge', perEndpoint((_g, e) => (e.available ? 1 : 0)));
    new CollectedMetric(r, 'loom_health_check_status', 'Result of active health checking (1 healthy, 0 unhealthy), for upstreams with a health_check.', 'gauge',
      perEndpoint((g, e) => (g.config.health_check === undefined ? undefined : e.healthy ? 1 : 0)));
    new CollectedMetric(r, 'loom_upstream_ejected', 'Whether outlier detection has ejected an endpoint (1).', 'gauge',
      perEndpoint((g, e) => (g.config.outlier_detection === undefined ? undefined : e.ejectedUntil !== 0 ? 1 : 0)));
    new CollectedMetric(r, 'loom_upstream_active_requests', 'Requests in flight to an endpoint.', 'gauge', perEndpoint((_g, e) => e.inflight));
    new CollectedMetric(r, 'loom_circuit_breaker_state', 'Circuit breaker state: 0 closed, 1 open, 2 half-open (upstreams with a circuit_breaker).', 'gauge', (out) => {
      for (const g of this.state.liveGroups()) {
        if (g.circuitBreaker !== null) out.push({ labels: { upstream: g.name }, value: g.circuitBreaker.stateCode });
      }
    });
    new CollectedMetric(r, 'loom_active_connections', 'Open client connections, by listener.', 'gauge', (out) => {
      for (const [listener, value] of this.state.listenerConnections()) out.push({ labels: { listener }, value });
    });
    new CollectedMetric(r, 'loom_requests_in_flight', 'Requests being served.', 'gauge', (out) => {
      out.push({ labels: {}, value: this.state.inflight });
    });
    new CollectedMetric(r, 'loom_config_reloads_total', 'Config reloads (file change, SIGHUP, POST /reload) by result.', 'counter', (out) => {
      const s = this.state.reloadStats;
      out.push({ labels: { result: 'success' }, value: s.successes });
      out.push({ labels: { result: 'failure' }, value: s.failures });
    });
    new CollectedMetric(r, 'loom_config_last_reload_success_timestamp_seconds', 'When the running config was loaded (start or last successful reload), Unix seconds.', 'gauge', (out) => {
      out.push({ labels: {}, value: this.state.reloadStats.lastSuccessAt / 1000 });
    });
    new CollectedMetric(r, 'loom_config_last_reload_successful', 'Whether the last reload attempt succeeded (1) or was rejected (0).', 'gauge', (out) => {
      const s = this.state.reloadStats;
      out.push({ labels: {}, value: s.lastFailureAt > s.lastSuccessAt ? 0 : 1 });
    });
  }

  private upstream(name: string): UpstreamSeries {
    let u = this.upstreams.get(name);
    if (u === undefined) {
      u = new UpstreamSeries();
      this.upstreams.set(name, u);
    }
    return u;
  }

  /** Hot path: one finished request. */
  recordExchange(x: RecordedExchange): void {
    const routeId = x.route === null ? UNMATCHED_ROUTE : x.route.id;
    let s = this.routes.get(routeId);
    if (s === undefined) {
      s = new RouteSeries();
      this.routes.set(routeId, s);
    }
    const m = methodIndex(x.req.method ?? 'GET');
    const key = m * 1000 + x.status;
    s.counts.set(key, (s.counts.get(key) ?? 0) + 1);
    (s.durations[m] ??= new HistogramSeries()).observe(x.durationMs / 1000);
    if (x.tries > 1 && x.group !== null) this.upstream(x.group.name).retries += x.tries - 1;
  }

  /**
   * Hot path: one finished upstream try. `status` is the upstream's status (undefined
   * when none arrived), `errorCode` the Loom error when the try failed.
   */
  recordTry(upstream: string, endpoint: string, status: number | undefined, errorCode: string | undefined, ms: number): void {
    const u = this.upstream(upstream);
    let e = u.endpoints.get(endpoint);
    if (e === undefined) {
      e = new EndpointSeries();
      u.endpoints.set(endpoint, e);
    }
    // A try the client abandoned says nothing about the upstream: counted under errors only.
    if (errorCode === 'LOOM_ERR_CLIENT_ABORTED') {
      // no success/failure
    } else if (errorCode !== undefined || status === undefined || status >= 500) e.failure++;
    else e.success++;
    if (errorCode !== undefined) {
      const type = errorType(errorCode);
      e.errors.set(type, (e.errors.get(type) ?? 0) + 1);
    }
    e.duration.observe(ms / 1000);
  }

  /** The Prometheus text exposition. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
