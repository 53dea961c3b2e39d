// The validated, defaulted, frozen configuration. Everything here is plain data:
// durations are milliseconds, sizes are bytes, every optional key that has a default
// is filled in by `adapt` before `validate` hands the config to `compile`.

export type Protocol = 'http';

export interface ListenerConfig {
  readonly name: string;
  /** As written: ":8080", "127.0.0.1:8080", "[::1]:8080", "localhost:0". */
  readonly address: string;
  /** Parsed from `address`; host '' means every interface. */
  readonly host: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface RouteConfig {
  readonly id: string;
  /** `/api`, `/api/*`, `/api/{id}`, `/api/{id}/items`. */
  readonly path: string;
  /** Exact host or `*.example.com`, compared case-insensitively without the port. */
  readonly host?: string;
  /** Upper-case method names; absent means every method. */
  readonly methods?: readonly string[];
  /** Header name (lower-case) → required value (exact match). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Query parameter → required value (exact match). */
  readonly query?: Readonly<Record<string, string>>;
  /** Higher first; default 0. */
  readonly priority: number;
  readonly upstream: string;
  /** Remove what the pattern matched before its final `/*` (see router/strip-prefix.ts); default false. */
  readonly strip_prefix: boolean;
  /** Deadline in ms for the upstream's response headers; overrides the upstream's `timeout.read`. */
  readonly timeout?: number;
  /** Retry non-idempotent requests that reached the upstream too; default false. */
  readonly retry_non_idempotent: boolean;
}

export type LoadBalancerKind =
  | 'round_robin'
  | 'weighted'
  | 'least_conn'
  | 'random'
  | 'ip_hash'
  | 'consistent_hash'
  | 'p2c';

/** Where a consistent-hash key comes from. */
export type HashKeySource =
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string }
  | { readonly kind: 'query'; readonly name: string }
  | { readonly kind: 'client_ip' };

export interface ConsistentHashConfig {
  /** Written as `header:X-User`, `cookie:sid`, `query:user`, `client_ip`, or a bare header name. Default `client_ip`. */
  readonly hash_key: HashKeySource;
  /** Virtual nodes per endpoint (per unit of weight). Default 160. */
  readonly replicas: number;
}

export interface PoolConfig {
  /** Max idle keep-alive connections kept per endpoint. Default 100. */
  readonly max_idle: number;
  /** Max open connections per endpoint. Default 1000. */
  readonly max_open: number;
  /** Close an idle connection after this many ms. Default 90000. */
  readonly idle_timeout: number;
}

export interface UpstreamTimeoutConfig {
  /** TCP connect, ms. Default 5000. */
  readonly connect: number;
  /** From request sent to response headers, ms. Default 30000. */
  readonly read: number;
  /** Longest stall while sending the request body upstream, ms. Default 30000. */
  readonly write: number;
  /** Longest gap between response body chunks, ms. Default 90000. */
  readonly idle: number;
}

export interface UpstreamConfig {
  readonly name: string;
  /** `host:port`, never with a scheme. */
  readonly endpoints: readonly string[];
  readonly load_balancer: LoadBalancerKind;
  /** Endpoint address → weight (positive integer). Missing endpoints weigh 1. */
  readonly weights: Readonly<Record<string, number>>;
  readonly consistent_hash: ConsistentHashConfig;
  readonly pool: PoolConfig;
  readonly timeout: UpstreamTimeoutConfig;
  /** `client` (default) forwards the client's Host; `endpoint` sends the endpoint's host:port. */
  readonly host_header: 'client' | 'endpoint';
  /** Absent: no active health checks. */
  readonly health_check?: HealthCheckConfig;
  /** Absent: no passive ejection. */
  readonly outlier_detection?: OutlierDetectionConfig;
  /** Absent: no circuit breaker. */
  readonly circuit_breaker?: CircuitBreakerConfig;
  /** Absent: no retries. */
  readonly retry?: RetryConfig;
}

export interface GatewayConfig {
  readonly listeners: readonly ListenerConfig[];
  readonly routes: readonly RouteConfig[];
  readonly upstreams: readonly UpstreamConfig[];
  /** How long a graceful shutdown waits for in-flight requests, ms. Default 30000. */
  readonly shutdown_timeout: number;
  readonly admin: AdminConfig;
  readonly metrics: MetricsConfig;
  /** Absent: tracing off. */
  readonly tracing?: TracingConfig;
  readonly access_log: AccessLogConfig;
}

/** One problem found in a config file. Every error is reported, not only the first. */
export interface ConfigError {
  readonly file: string;
  /** 1-based; 0 when the position is unknown. */
  readonly line: number;
  readonly column: number;
  /** Key path such as `upstreams[0].load_balancer`. */
  readonly path: string;
  /** Stable machine code, e.g. `unknown_key`, `not_supported`, `missing_upstream`. */
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

// --- Resilience blocks of an upstream ---

/** Active health checks (seed defaults). */
export interface HealthCheckConfig {
  /** HTTP path probed with GET. Default `/`. */
  readonly path: string;
  /** ms between probes of one endpoint. Default 10000. */
  readonly interval: number;
  /** ms before a probe counts as failed. Default 2000. */
  readonly timeout: number;
  /** Consecutive successes that make an unhealthy endpoint healthy. Default 2. */
  readonly healthy_threshold: number;
  /** Consecutive failures that make a healthy endpoint unhealthy. Default 3. */
  readonly unhealthy_threshold: number;
  /** Status a healthy endpoint answers. Default 200. */
  readonly expected_status: number;
}

/** Passive health (outlier detection), as Envoy's: opt-in per upstream. */
export interface OutlierDetectionConfig {
  /** Consecutive failures (5xx or connection failures) that eject an endpoint. Default 5. */
  readonly consecutive_failures: number;
  /** ms an endpoint stays ejected the first time; multiplied by its ejection count. Default 30000. */
  readonly base_ejection_time: number;
  /** Upper bound of one ejection, ms. Default 300000. */
  readonly max_ejection_time: number;
  /** Never eject more than this share (0–100) of an upstream's endpoints. Default 50. */
  readonly max_ejection_percent: number;
}

/** Outcomes a circuit breaker may count as failures. */
export type FailureKind = 'connect_error' | 'timeout' | '5xx';

export interface CircuitBreakerConfig {
  /** Consecutive failures that open the circuit. Default 5. */
  readonly failure_threshold: number;
  /** Consecutive successes in half-open that close it. Default 3. */
  readonly success_threshold: number;
  /** ms the circuit stays open before letting trial requests through. Default 30000. */
  readonly timeout: number;
  /** Trial requests allowed at once in half-open. Default 1. */
  readonly half_open_requests: number;
  /** What counts as a failure. Default all three. */
  readonly failure_on: readonly FailureKind[];
}

export interface RetryConfig {
  /** Retries after the first try. Default 3. */
  readonly max_retries: number;
  /** ms before the first retry (doubled each time, with jitter). Default 100. */
  readonly backoff_base: number;
  /** Cap of one backoff, ms. Default 10000. */
  readonly backoff_max: number;
  /** Upstream statuses that are retried. Default [502, 503, 504]. */
  readonly retryable_codes: readonly number[];
  /** Request bodies up to this many bytes are buffered so a retry can resend them; larger ones are not retried. Default 64 KiB. */
  readonly buffer_limit: number;
  /** Retries may be at most this share (0–100) of the upstream's in-flight requests… Default 20. */
  readonly budget_percent: number;
  /** …but this many concurrent retries are always allowed. Default 3. */
  readonly min_retry_concurrency: number;
}

/** Admin API listener (`admin:`). On by default, on loopback only. */
export interface AdminConfig {
  /** Default true. */
  readonly enabled: boolean;
  /** As written; default `127.0.0.1:9091`. */
  readonly address: string;
  /** Parsed from `address`; host '' means every interface. */
  readonly host: string;
  readonly port: number;
  /** Absent: no authentication. `/health` and `/ready` are always open. */
  readonly auth?: AdminAuthConfig;
  /** Upstreams that must have at least one available endpoint for `/ready` to answer 200. Default none. */
  readonly required_upstreams: readonly string[];
}

export interface AdminAuthConfig {
  /** Realm sent in `WWW-Authenticate`. Default `Gateway Admin`. */
  readonly realm: string;
  /** User name → bcrypt hash (`$2a$`/`$2b$`/`$2y$`) for HTTP Basic auth. */
  readonly users: Readonly<Record<string, string>>;
  /** Accepted as `Authorization: Bearer <token>`; absent: no bearer auth. */
  readonly token?: string;
}

/** Prometheus metrics (`metrics:`). On by default. */
export interface MetricsConfig {
  /** Record metrics at all. Default true; false removes their cost from the request path. */
  readonly enabled: boolean;
  /** Path of the Prometheus text exposition on the admin listener. Default `/metrics`. */
  readonly path: string;
}

export type TracingProvider = 'otlp' | 'jaeger' | 'zipkin';
export type OtlpProtocol = 'grpc' | 'http/protobuf';

/** OpenTelemetry tracing (`tracing:`). Absent or `enabled: false`: off, and free. */
export interface TracingConfig {
  readonly provider: TracingProvider;
  /** `service.name` of the spans. Default `loom`. */
  readonly service_name: string;
  /**
   * Where spans go. otlp/jaeger: `host:port` or a URL (default `localhost:4317` for grpc,
   * `http://localhost:4318/v1/traces` for http/protobuf); zipkin: a URL (default
   * `http://localhost:9411/api/v2/spans`).
   */
  readonly endpoint: string;
  /** otlp/jaeger only. Default `grpc`. */
  readonly protocol: OtlpProtocol;
  /** Extra headers sent with every export (collector API keys). Default none. */
  readonly headers: Readonly<Record<string, string>>;
  /** Share of new traces sampled, 0–1 (`always_on` = 1, `always_off` = 0). Default 1. */
  readonly ratio: number;
  /** Follow the sampled flag of an incoming `traceparent`. Default true. */
  readonly parent_based: boolean;
  /** Longest a finished span waits before export, ms. Default 5000. */
  readonly batch_timeout: number;
}

export type AccessLogFormat = 'json' | 'combined';

/** Access log (`logging.access_log:`). */
export interface AccessLogConfig {
  /** Default true. */
  readonly enabled: boolean;
  /** Default `json`. */
  readonly format: AccessLogFormat;
  /** Share of requests logged, 0–1. Default 1. */
  readonly sample_ratio: number;
  /** Log every response with status ≥ 500 (and every upstream failure) whatever the ratio. Default true. */
  readonly always_log_errors: boolean;
}
