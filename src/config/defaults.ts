// Every default, written as a user would write it in YAML. The schema publishes these
// (`default`), the adapter parses them, and docs/configuration.md repeats them (a test
// keeps the three in step).

export const LOAD_BALANCERS = [
  'round_robin',
  'weighted',
  'least_conn',
  'random',
  'ip_hash',
  'consistent_hash',
  'p2c',
] as const;

/** `http` is served today; the others are known but rejected as not supported yet. */
export const PROTOCOLS = ['http', 'https', 'h2c', 'http3', 'grpc', 'grpcs'] as const;

export const HOST_HEADER_MODES = ['client', 'endpoint'] as const;

export const DEFAULTS = {
  listener: { protocol: 'http' },
  route: { priority: 0, strip_prefix: false, retry_non_idempotent: false },
  upstream: {
    load_balancer: 'round_robin',
    host_header: 'client',
    consistent_hash: { hash_key: 'client_ip', replicas: 160 },
    pool: { max_idle: 100, max_open: 1000, idle_timeout: '90s' },
    timeout: { connect: '5s', read: '30s', write: '30s', idle: '90s' },
  },
  // Resilience blocks: absent means off; these are the defaults of their fields.
  health_check: {
    path: '/',
    interval: '10s',
    timeout: '2s',
    healthy_threshold: 2,
    unhealthy_threshold: 3,
    expected_status: 200,
  },
  outlier_detection: { consecutive_failures: 5, base_ejection_time: '30s', max_ejection_time: '300s', max_ejection_percent: 50 },
  circuit_breaker: {
    failure_threshold: 5,
    success_threshold: 3,
    timeout: '30s',
    half_open_requests: 1,
    failure_on: ['connect_error', 'timeout', '5xx'],
  },
  retry: {
    max_retries: 3,
    backoff_base: '100ms',
    backoff_max: '10s',
    retryable_codes: [502, 503, 504],
    buffer_limit: '64KB',
    budget_percent: 20,
    min_retry_concurrency: 3,
  },
  shutdown_timeout: '30s',
  admin: { enabled: true, address: '127.0.0.1:9091', required_upstreams: [] as string[] },
  admin_auth: { realm: 'Gateway Admin' },
  metrics: { enabled: true, prometheus: { enabled: true, path: '/metrics' } },
  tracing: {
    enabled: false,
    provider: 'otlp',
    service_name: 'loom',
    protocol: 'grpc',
    batch_timeout: '5s',
    sampling: { type: 'ratio', ratio: 1, parent_based: true },
  },
  /** Per provider and protocol when `endpoint` is absent. */
  tracing_endpoints: {
    grpc: 'localhost:4317',
    'http/protobuf': 'http://localhost:4318/v1/traces',
    zipkin: 'http://localhost:9411/api/v2/spans',
  },
  access_log: { enabled: true, format: 'json', sampling: { ratio: 1, always_log_errors: true } },
} as const;

export const TRACING_PROVIDERS = ['otlp', 'jaeger', 'zipkin'] as const;
export const OTLP_PROTOCOLS = ['grpc', 'http/protobuf'] as const;
export const SAMPLER_TYPES = ['always_on', 'always_off', 'ratio'] as const;
export const ACCESS_LOG_FORMATS = ['json', 'combined'] as const;

export const FAILURE_KINDS = ['connect_error', 'timeout', '5xx'] as const;
