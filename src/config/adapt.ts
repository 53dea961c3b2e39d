// Validated data → GatewayConfig: fills every default (defaults.ts), parses durations
// into ms, normalises case. Runs only on data that passed the schema and semantic
// checks, so it may assume types and syntax; it does not freeze.
import { parseHostPort } from './address.js';
import { DEFAULTS } from './defaults.js';
import { parseHashKey } from './http-syntax.js';
import { parseDuration, parseSize } from './units.js';
import type {
  AccessLogConfig,
  AdminConfig,
  MetricsConfig,
  OtlpProtocol,
  TracingConfig,
  TracingProvider,
  CircuitBreakerConfig,
  FailureKind,
  HealthCheckConfig,
  OutlierDetectionConfig,
  RetryConfig,
  GatewayConfig,
  ListenerConfig,
  LoadBalancerKind,
  RouteConfig,
  UpstreamConfig,
} from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the data passed validation
type Obj = Record<string, any>;

const ms = (written: string | undefined, fallback: string): number => parseDuration(written ?? fallback) as number;

export function adapt(data: Obj): GatewayConfig {
  return {
    listeners: (data.listeners as Obj[]).map(adaptListener),
    routes: ((data.routes ?? []) as Obj[]).map(adaptRoute),
    upstreams: ((data.upstreams ?? []) as Obj[]).map(adaptUpstream),
    shutdown_timeout: ms(data.shutdown_timeout, DEFAULTS.shutdown_timeout),
    admin: adaptAdmin(data.admin ?? {}),
    metrics: adaptMetrics(data.metrics ?? {}),
    ...(data.tracing?.enabled === true ? { tracing: adaptTracing(data.tracing) } : {}),
    access_log: adaptAccessLog(data.logging?.access_log ?? {}),
  };
}

function adaptAdmin(a: Obj): AdminConfig {
  const d = DEFAULTS.admin;
  const address: string = a.address ?? d.address;
  const parsed = parseHostPort(address, { allowEmptyHost: true, minPort: 0 });
  if (!parsed.ok) throw new Error(`adapt: unvalidated admin address ${address}`);
  const auth: Obj | undefined = a.auth;
  const authOn = auth !== undefined && (auth.enabled ?? (auth.users !== undefined || auth.token !== undefined)) === true;
  return {
    enabled: a.enabled ?? d.enabled,
    address,
    host: parsed.value.host,
    port: parsed.value.port,
    ...(authOn
      ? { auth: { realm: auth!.realm ?? DEFAULTS.admin_auth.realm, users: { ...(auth!.users ?? {}) }, ...(auth!.token !== undefined ? { token: auth!.token } : {}) } }
      : {}),
    required_upstreams: [...(a.readiness?.required_upstreams ?? d.required_upstreams)],
  };
}

function adaptMetrics(m: Obj): MetricsConfig {
  const d = DEFAULTS.metrics;
  return {
    enabled: (m.enabled ?? d.enabled) && (m.prometheus?.enabled ?? d.prometheus.enabled),
    path: m.prometheus?.path ?? d.prometheus.path,
  };
}

function adaptTracing(t: Obj): TracingConfig {
  const d = DEFAULTS.tracing;
  const provider: TracingProvider = t.provider ?? d.provider;
  const block: Obj = t[provider] ?? {};
  const protocol: OtlpProtocol = provider === 'zipkin' ? 'http/protobuf' : (block.protocol ?? d.protocol);
  const endpoint: string = block.endpoint ?? (provider === 'zipkin' ? DEFAULTS.tracing_endpoints.zipkin : DEFAULTS.tracing_endpoints[protocol]);
  const sampling: Obj = t.sampling ?? {};
  const type = sampling.type ?? d.sampling.type;
  return {
    provider,
    service_name: t.service_name ?? d.service_name,
    endpoint,
    protocol,
    headers: { ...(block.headers ?? {}) },
    ratio: type === 'always_on' ? 1 : type === 'always_off' ? 0 : (sampling.ratio ?? d.sampling.ratio),
    parent_based: sampling.parent_based ?? d.sampling.parent_based,
    batch_timeout: ms(t.batch_timeout, d.batch_timeout),
  };
}

function adaptAccessLog(l: Obj): AccessLogConfig {
  const d = DEFAULTS.access_log;
  return {
    enabled: l.enabled ?? d.enabled,
    format: l.format ?? d.format,
    sample_ratio: l.sampling?.ratio ?? d.sampling.ratio,
    always_log_errors: l.sampling?.always_log_errors ?? d.sampling.always_log_errors,
  };
}

function adaptListener(l: Obj): ListenerConfig {
  const parsed = parseHostPort(l.address, { allowEmptyHost: true, minPort: 0 });
  if (!parsed.ok) throw new Error(`adapt: unvalidated listener address ${l.address}`);
  return {
    name: l.name,
    address: l.address,
    host: parsed.value.host,
    port: parsed.value.port,
    protocol: l.protocol ?? DEFAULTS.listener.protocol,
  };
}

const lowerKeys = (m: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));

function adaptRoute(r: Obj): RouteConfig {
  return {
    id: r.id,
    path: r.path,
    ...(r.host !== undefined ? { host: (r.host as string).toLowerCase() } : {}),
    ...(r.methods !== undefined ? { methods: [...new Set((r.methods as string[]).map((m) => m.toUpperCase()))] } : {}),
    ...(r.headers !== undefined ? { headers: lowerKeys(r.headers) } : {}),
    ...(r.query !== undefined ? { query: { ...r.query } } : {}),
    priority: r.priority ?? DEFAULTS.route.priority,
    upstream: r.upstream,
    strip_prefix: r.strip_prefix ?? DEFAULTS.route.strip_prefix,
    retry_non_idempotent: r.retry_non_idempotent ?? DEFAULTS.route.retry_non_idempotent,
    ...(r.timeout !== undefined ? { timeout: parseDuration(r.timeout) as number } : {}),
  };
}

function adaptUpstream(u: Obj): UpstreamConfig {
  const d = DEFAULTS.upstream;
  const ch: Obj = u.consistent_hash ?? {};
  const pool: Obj = u.pool ?? {};
  const timeout: Obj = u.timeout ?? {};
  return {
    name: u.name,
    endpoints: [...u.endpoints],
    load_balancer: (u.load_balancer ?? d.load_balancer) as LoadBalancerKind,
    weights: { ...(u.weights ?? {}) },
    consistent_hash: {
      hash_key: parseHashKey(ch.hash_key ?? d.consistent_hash.hash_key)!,
      replicas: ch.replicas ?? d.consistent_hash.replicas,
    },
    pool: {
      max_idle: pool.max_idle ?? d.pool.max_idle,
      max_open: pool.max_open ?? d.pool.max_open,
      idle_timeout: ms(pool.idle_timeout, d.pool.idle_timeout),
    },
    timeout: {
      connect: ms(timeout.connect, d.timeout.connect),
      read: ms(timeout.read, d.timeout.read),
      write: ms(timeout.write, d.timeout.write),
      idle: ms(timeout.idle, d.timeout.idle),
    },
    host_header: u.host_header ?? d.host_header,
    ...(u.health_check !== undefined ? { health_check: adaptHealthCheck(u.health_check) } : {}),
    ...(u.outlier_detection !== undefined ? { outlier_detection: adaptOutlier(u.outlier_detection) } : {}),
    ...(u.circuit_breaker !== undefined ? { circuit_breaker: adaptBreaker(u.circuit_breaker) } : {}),
    ...(u.retry !== undefined ? { retry: adaptRetry(u.retry) } : {}),
  };
}

function adaptHealthCheck(h: Obj): HealthCheckConfig {
  const d = DEFAULTS.health_check;
  return {
    path: h.path ?? d.path,
    interval: ms(h.interval, d.interval),
    timeout: ms(h.timeout, d.timeout),
    healthy_threshold: h.healthy_threshold ?? d.healthy_threshold,
    unhealthy_threshold: h.unhealthy_threshold ?? d.unhealthy_threshold,
    expected_status: h.expected_status ?? d.expected_status,
  };
}

function adaptOutlier(o: Obj): OutlierDetectionConfig {
  const d = DEFAULTS.outlier_detection;
  return {
    consecutive_failures: o.consecutive_failures ?? d.consecutive_failures,
    base_ejection_time: ms(o.base_ejection_time, d.base_ejection_time),
    max_ejection_time: ms(o.max_ejection_time, d.max_ejection_time),
    max_ejection_percent: o.max_ejection_percent ?? d.max_ejection_percent,
  };
}

function adaptBreaker(c: Obj): CircuitBreakerConfig {
  const d = DEFAULTS.circuit_breaker;
  return {
    failure_threshold: c.failure_threshold ?? d.failure_threshold,
    success_threshold: c.success_threshold ?? d.success_threshold,
    timeout: ms(c.timeout, d.timeout),
    half_open_requests: c.half_open_requests ?? d.half_open_requests,
    failure_on: [...new Set((c.failure_on ?? d.failure_on) as FailureKind[])],
  };
}

function adaptRetry(r: Obj): RetryConfig {
  const d = DEFAULTS.retry;
  return {
    max_retries: r.max_retries ?? d.max_retries,
    backoff_base: ms(r.backoff_base, d.backoff_base),
    backoff_max: ms(r.backoff_max, d.backoff_max),
    retryable_codes: [...new Set((r.retryable_codes ?? d.retryable_codes) as number[])],
    buffer_limit: parseSize(r.buffer_limit ?? d.buffer_limit) as number,
    budget_percent: r.budget_percent ?? d.budget_percent,
    min_retry_concurrency: r.min_retry_concurrency ?? d.min_retry_concurrency,
  };
}
