// The JSON Schema (draft-07) of loom.yaml. This object is the source; the published
// copy at schema/loom.schema.json is checked against it by a test (UPDATE_GOLDEN=1
// rewrites it). Every property has a description, a default where there is one, and
// objects are closed (additionalProperties: false) so editors can complete keys.
//
// Formats: `duration` (Go syntax, > 0, see units.ts) and `size` (bytes, see units.ts)
// are registered with ajv in schema-check.ts. Keys that later issues implement are
// described with their real shape but rejected by not-supported.ts.
import {
  ACCESS_LOG_FORMATS,
  DEFAULTS,
  FAILURE_KINDS,
  HOST_HEADER_MODES,
  LOAD_BALANCERS,
  OTLP_PROTOCOLS,
  PROTOCOLS,
  SAMPLER_TYPES,
  TRACING_PROVIDERS,
} from './defaults.js';

export type JsonSchema = { readonly [key: string]: unknown };

const D = DEFAULTS;

const withDefault = (s: JsonSchema, def: unknown): JsonSchema => (def === undefined ? s : { ...s, default: def });
const str = (description: string, def?: string): JsonSchema => withDefault({ type: 'string', description }, def);
const nonEmpty = (description: string): JsonSchema => ({ type: 'string', minLength: 1, description });
const bool = (description: string, def?: boolean): JsonSchema => withDefault({ type: 'boolean', description }, def);
const num = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'number', description, ...extra });
const int = (description: string, minimum?: number, def?: number, maximum?: number): JsonSchema =>
  withDefault(
    { type: 'integer', description, ...(minimum === undefined ? {} : { minimum }), ...(maximum === undefined ? {} : { maximum }) },
    def,
  );
const duration = (description: string, def?: string): JsonSchema =>
  withDefault({ type: 'string', format: 'duration', description }, def);
const size = (description: string, def?: string): JsonSchema => withDefault({ type: 'string', format: 'size', description }, def);
const enumOf = (description: string, values: readonly string[], def?: string): JsonSchema =>
  withDefault({ type: 'string', enum: [...values], description }, def);
const list = (description: string, items: JsonSchema, minItems?: number, def?: unknown): JsonSchema =>
  withDefault({ type: 'array', description, items, ...(minItems === undefined ? {} : { minItems }) }, def);
const stringMap = (description: string, value: JsonSchema = { type: 'string' }): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: value,
});
const obj = (description: string, properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: false,
  ...(required.length > 0 ? { required } : {}),
  properties,
});
/** An object whose shape the implementing issue will define; any keys for now. */
const opaque = (description: string): JsonSchema => ({ type: 'object', description });

const listenerTls = obj('TLS for this listener. Not supported yet.', {
  cert_file: str('Path to the PEM certificate chain.'),
  key_file: str('Path to the PEM private key.'),
  min_version: enumOf('Lowest TLS version accepted (quote it: "1.2").', ['1.0', '1.1', '1.2', '1.3']),
  client_auth: str('Client certificate policy for mutual TLS, e.g. `require`.'),
  client_ca_file: str('CA bundle used to verify client certificates.'),
});

const listener = obj(
  'A socket the gateway accepts requests on.',
  {
    name: nonEmpty('Unique name of the listener.'),
    address: nonEmpty('Where to listen: `host:port`, `:port` (every interface) or `[v6]:port`; port 0-65535.'),
    protocol: enumOf('Protocol served. Only `http` is supported yet.', PROTOCOLS, D.listener.protocol),
    tls: listenerTls,
  },
  ['name', 'address'],
);

const route = obj(
  'Matches requests and sends them to an upstream.',
  {
    id: nonEmpty('Unique id of the route.'),
    path: nonEmpty('Path pattern: `/api` (exact), `/api/*` (prefix), `/api/{id}` (parameter), `/api/{id}/items`.'),
    host: str('Exact host name or `*.example.com`; compared case-insensitively, without the port. Absent: any host.'),
    methods: list('HTTP methods matched (upper-cased); GET also allows HEAD. Absent: every method.', { type: 'string' }, 1),
    headers: stringMap('Header name → required value (exact match); names are case-insensitive.'),
    query: stringMap('Query parameter → required value (exact match).'),
    priority: int('Routes with a higher priority are tried first.', undefined, D.route.priority),
    upstream: nonEmpty('Name of the upstream that serves the route.'),
    strip_prefix: bool('Remove the part of the path the pattern matched before its final `/*` (for `/api/*`, `/api/users` → `/users`; for `/u/{id}/*`, `/u/7/x` → `/x`; a pattern without `/*` forwards `/`).', D.route.strip_prefix),
    retry_non_idempotent: bool('Let the upstream\'s retry policy also retry POST, PATCH and other non-idempotent requests after they reached the upstream (they are always retried when the connection was refused).', D.route.retry_non_idempotent),
    timeout: duration("Deadline for the upstream's response headers; overrides the upstream's `timeout.read`."),
    plugins: list('Plugins run on this route, by name. Not supported yet.', { type: 'string' }),
  },
  ['id', 'path', 'upstream'],
);

const upstream = obj(
  'A backend service: a set of endpoints and how to reach them.',
  {
    name: nonEmpty('Unique name of the upstream, referenced by routes.'),
    endpoints: list('Backend addresses as `host:port`, without a scheme.', { type: 'string' }, 1),
    load_balancer: enumOf('Endpoint selection algorithm.', LOAD_BALANCERS, D.upstream.load_balancer),
    weights: stringMap('Endpoint address → weight (positive integer); missing endpoints weigh 1. Read by every balancer but `round_robin`, where it is an error.', {
      type: 'integer',
      minimum: 1,
    }),
    consistent_hash: obj('Settings of the `consistent_hash` balancer (`ip_hash` reads `replicas` only); an error with any other balancer.', {
      hash_key: str(
        'What to hash: `client_ip`, `header:X-User`, `cookie:sid`, `query:user`, or a bare header name.',
        D.upstream.consistent_hash.hash_key,
      ),
      replicas: int('Virtual nodes per endpoint (per unit of weight).', 1, D.upstream.consistent_hash.replicas),
    }),
    pool: obj('Connection pool per endpoint.', {
      max_idle: int('Maximum idle keep-alive connections kept per endpoint.', 0, D.upstream.pool.max_idle),
      max_open: int('Maximum open connections per endpoint.', 1, D.upstream.pool.max_open),
      idle_timeout: duration('Close an idle connection after this long.', D.upstream.pool.idle_timeout),
    }),
    timeout: obj('Timeouts towards the endpoints.', {
      connect: duration('TCP connect timeout.', D.upstream.timeout.connect),
      read: duration('From request sent to response headers received.', D.upstream.timeout.read),
      write: duration('Longest stall while sending the request body.', D.upstream.timeout.write),
      idle: duration('Longest gap between response body chunks.', D.upstream.timeout.idle),
    }),
    host_header: enumOf(
      "Host header sent upstream: the client's (`client`) or the endpoint's `host:port` (`endpoint`).",
      HOST_HEADER_MODES,
      D.upstream.host_header,
    ),
    health_check: obj('Active health checks: probe every endpoint with GET; unhealthy ones leave rotation. Absent: off.', {
      path: str('HTTP path to check.', D.health_check.path),
      interval: duration('Time between checks.', D.health_check.interval),
      timeout: duration('Check timeout.', D.health_check.timeout),
      healthy_threshold: int('Consecutive successes to mark healthy.', 1, D.health_check.healthy_threshold),
      unhealthy_threshold: int('Consecutive failures to mark unhealthy.', 1, D.health_check.unhealthy_threshold),
      expected_status: int('Expected HTTP status code.', 100, D.health_check.expected_status, 599),
    }),
    outlier_detection: obj('Passive health: eject an endpoint after consecutive failures (5xx or connection failures). Absent: off.', {
      consecutive_failures: int('Consecutive failures that eject an endpoint.', 1, D.outlier_detection.consecutive_failures),
      base_ejection_time: duration('How long the first ejection lasts; the n-th lasts n times as long.', D.outlier_detection.base_ejection_time),
      max_ejection_time: duration('Upper bound of one ejection.', D.outlier_detection.max_ejection_time),
      max_ejection_percent: int('Never eject more than this share (%) of the endpoints.', 0, D.outlier_detection.max_ejection_percent, 100),
    }),
    circuit_breaker: obj('Circuit breaker for the whole upstream: closed → open → half-open. Absent: off.', {
      failure_threshold: int('Consecutive failures that open the circuit.', 1, D.circuit_breaker.failure_threshold),
      success_threshold: int('Consecutive successes in half-open that close it.', 1, D.circuit_breaker.success_threshold),
      timeout: duration('Time in the open state before trial requests are let through (half-open).', D.circuit_breaker.timeout),
      half_open_requests: int('Trial requests allowed at once in half-open.', 1, D.circuit_breaker.half_open_requests),
      failure_on: list('Outcomes that count as failures.', { type: 'string', enum: [...FAILURE_KINDS] }, 1, [...D.circuit_breaker.failure_on]),
    }),
    retry: obj('Retry policy: failed tries are repeated on a freshly selected endpoint. Absent: no retries.', {
      max_retries: int('Retries after the first try.', 0, D.retry.max_retries),
      backoff_base: duration('Delay before the first retry; doubled for each further retry, with jitter.', D.retry.backoff_base),
      backoff_max: duration('Maximum delay before one retry.', D.retry.backoff_max),
      retryable_codes: list('Response status codes that are retried.', { type: 'integer', minimum: 100, maximum: 599 }, undefined, [
        ...D.retry.retryable_codes,
      ]),
      buffer_limit: size('Request bodies up to this size are buffered so a retry can resend them; larger ones are not retried.', D.retry.buffer_limit),
      budget_percent: int('Retries in flight may be at most this share (%) of the requests in flight to the upstream…', 0, D.retry.budget_percent, 100),
      min_retry_concurrency: int('…but this many retries in flight are always allowed.', 0, D.retry.min_retry_concurrency),
    }),
    tls: obj('TLS towards the endpoints. Not supported yet.', {
      enabled: bool('Connect to the endpoints over TLS.'),
      insecure_skip_verify: bool('Skip verification of the server certificate.'),
      ca_file: str('CA bundle used to verify the endpoints.'),
      cert_file: str('Client certificate for mutual TLS.'),
      key_file: str('Client private key for mutual TLS.'),
    }),
    bulkhead: obj('Concurrent request limit. Not supported yet.', {
      enabled: bool('Enable the bulkhead.'),
      max_concurrent: int('Maximum concurrent requests.', 1),
      queue_size: int('Requests queued when at capacity.', 0),
      timeout: duration('How long a queued request waits for a slot.'),
    }),
    service_discovery: obj('Discover endpoints dynamically. Not supported yet.', {
      enabled: bool('Enable service discovery.'),
      provider: enumOf('Discovery provider.', ['dns', 'consul', 'kubernetes']),
      service_name: str('Service name to discover (defaults to the upstream name).'),
      refresh_interval: duration('How often to refresh the endpoint list.'),
    }),
  },
  ['name', 'endpoints'],
);

const plugin = obj('A WebAssembly (Proxy-Wasm) plugin.', {
  name: nonEmpty('Unique name of the plugin, referenced by routes.'),
  path: str('Path to the `.wasm` module.'),
  phase: enumOf('Phase the plugin runs in.', [
    'on_request_headers',
    'on_request_body',
    'on_response_headers',
    'on_response_body',
    'on_log',
  ]),
  priority: int('Plugins with a higher priority run first.'),
  config: opaque('Configuration passed to the plugin.'),
  memory_limit: size('Maximum memory of one plugin instance, e.g. `16MB`.'),
  timeout: duration('Maximum time of one plugin call.'),
});

const exporterBlock = (description: string): JsonSchema =>
  obj(description, {
    endpoint: str(`Collector address: \`host:port\` or a URL. Default \`${D.tracing_endpoints.grpc}\` (grpc) or \`${D.tracing_endpoints['http/protobuf']}\` (http/protobuf).`),
    protocol: enumOf('OTLP transport.', OTLP_PROTOCOLS, D.tracing.protocol),
    headers: stringMap('Extra headers sent with every export (e.g. a collector API key); shown redacted by `GET /config`.'),
  });

export const LOOM_SCHEMA: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Loom gateway configuration (loom.yaml)',
  ...obj(
    'Configuration of the Loom API gateway.',
    {
      listeners: list('Sockets the gateway accepts requests on; at least one.', listener, 1),
      routes: list('Routes, tried by priority (higher first). None: every request gets 404.', route, undefined, []),
      upstreams: list('Backend services.', upstream, undefined, []),
      admin: obj('Admin API: health, readiness, upstream state, routes, config, reload, drain and Prometheus metrics. Served on its own listener, never on a data-plane port.', {
        enabled: bool('Serve the admin API.', D.admin.enabled),
        address: str('Admin listen address. The default accepts connections from this host only; `:9091` would accept them from anywhere (then configure `auth`).', D.admin.address),
        auth: obj('Authentication of every admin endpoint except `/health` and `/ready`. Needs `users` or `token`.', {
          enabled: bool('Require authentication. Default: true when the block lists users or a token.'),
          users: stringMap('User name → bcrypt hash of the password (`$2a$`/`$2b$`/`$2y$`, e.g. from `htpasswd -nbB user pass`), for HTTP Basic auth.'),
          token: nonEmpty('Bearer token accepted as `Authorization: Bearer <token>`; use `${ENV_VAR}` rather than writing it in the file.'),
          realm: str('Realm sent in `WWW-Authenticate` on a 401.', D.admin_auth.realm),
        }),
        readiness: obj('What `/ready` checks besides a live config and not shutting down.', {
          required_upstreams: list('Upstreams that must have at least one available endpoint for `/ready` to answer 200.', { type: 'string', minLength: 1 }, undefined, []),
        }),
      }),
      metrics: obj('Prometheus metrics, served on the admin listener.', {
        enabled: bool('Record metrics. `false` takes their cost off the request path and removes the endpoint.', D.metrics.enabled),
        prometheus: obj('Prometheus text exposition on the admin listener.', {
          enabled: bool('Serve the metrics endpoint (`false` behaves as `metrics.enabled: false`).', D.metrics.prometheus.enabled),
          path: str('Path of the metrics endpoint on the admin listener; not one the admin API uses (`/health`, `/upstreams`, …).', D.metrics.prometheus.path),
        }),
        opentelemetry: obj('OpenTelemetry metrics export. Not supported yet.', {
          enabled: bool('Export metrics over OTLP.'),
          endpoint: str('OTLP collector address.'),
        }),
      }),
      tracing: obj('Distributed tracing with OpenTelemetry: a server span per request and a client span per upstream try; W3C `traceparent` and `baggage` are read from clients and sent upstream.', {
        enabled: bool('Enable tracing.', D.tracing.enabled),
        provider: enumOf('Where spans go: `otlp` (an OpenTelemetry collector), `jaeger` (OTLP to Jaeger\'s OTLP port) or `zipkin`.', TRACING_PROVIDERS, D.tracing.provider),
        service_name: str('`service.name` of the spans.', D.tracing.service_name),
        batch_timeout: duration('Longest a finished span waits before it is exported.', D.tracing.batch_timeout),
        otlp: exporterBlock('OTLP exporter settings (provider `otlp`).'),
        jaeger: exporterBlock('Jaeger settings (provider `jaeger`); Loom speaks OTLP to Jaeger (1.35 and later).'),
        zipkin: obj('Zipkin exporter settings (provider `zipkin`).', {
          endpoint: str('Zipkin v2 spans URL.', D.tracing_endpoints.zipkin),
          headers: stringMap('Extra HTTP headers sent with every export.'),
        }),
        sampling: obj('Which requests are traced.', {
          type: enumOf('Sampler for new traces.', SAMPLER_TYPES, D.tracing.sampling.type),
          ratio: num('Share of new traces sampled with `type: ratio`, 0 to 1.', { minimum: 0, maximum: 1, default: D.tracing.sampling.ratio }),
          parent_based: bool('Follow the sampled flag of an incoming `traceparent` (a trace sampled upstream of Loom stays sampled).', D.tracing.sampling.parent_based),
        }),
      }),
      plugins: list('WebAssembly plugins. Not supported yet.', plugin),
      rate_limit: obj('Rate limiting. Not supported yet.', {
        enabled: bool('Enable rate limiting.'),
        rate: num('Requests per second.', { exclusiveMinimum: 0 }),
        burst: int('Maximum burst size.', 1),
        cleanup_interval: duration('How often stale buckets are removed.'),
        store: obj('Where buckets are kept.', {
          type: enumOf('Store kind.', ['memory', 'redis']),
          redis: obj('Redis store settings.', { address: str('Redis address, e.g. `redis:6379`.') }),
        }),
      }),
      cors: obj('CORS responses. Not supported yet.', {
        enabled: bool('Enable CORS handling.'),
        allow_origins: list('Allowed origins.', { type: 'string' }),
        allow_methods: list('Allowed methods.', { type: 'string' }),
        allow_headers: list('Allowed request headers.', { type: 'string' }),
        expose_headers: list('Response headers exposed to the browser.', { type: 'string' }),
        max_age: int('Preflight cache lifetime in seconds.', 0),
        allow_credentials: bool('Allow credentials.'),
      }),
      cache: obj('Response cache. Not supported yet.', {
        enabled: bool('Enable the response cache.'),
        max_size: size('Maximum cache size, e.g. `100MB`.'),
        default_ttl: duration('Time to live of a cached response.'),
        cleanup_interval: duration('How often expired entries are removed.'),
        stale_while_revalidate: duration('How long a stale response may be served while refreshing.'),
        excluded_paths: list('Paths never cached.', { type: 'string' }),
        included_paths: list('If set, only these paths are cached.', { type: 'string' }),
        bypass_header: str('Request header that bypasses the cache.'),
      }),
      ai_gateway: opaque('AI gateway features. Not supported yet.'),
      ebpf: obj('eBPF acceleration. Not supported yet.', {
        enabled: bool('Enable eBPF acceleration.'),
        socket_redirect: bool('Redirect sockets in the kernel.'),
      }),
      graphql: opaque('GraphQL gateway features. Not supported yet.'),
      shutdown_timeout: duration('How long a graceful shutdown (SIGTERM/SIGINT) waits for in-flight requests before closing their connections.', D.shutdown_timeout),
      logging: obj('Logging settings (the level comes from `-log-level`).', {
        access_log: obj('One line per finished request on stdout.', {
          enabled: bool('Write the access log.', D.access_log.enabled),
          format: enumOf('`json` (one object per line, pino-compatible) or `combined` (Apache/nginx combined log format plus Loom fields).', ACCESS_LOG_FORMATS, D.access_log.format),
          sampling: obj('Log only a share of requests.', {
            ratio: num('Share of requests logged, 0 to 1.', { minimum: 0, maximum: 1, default: D.access_log.sampling.ratio }),
            always_log_errors: bool('Log every 5xx answer and upstream failure whatever the ratio.', D.access_log.sampling.always_log_errors),
          }),
        }),
      }),
    },
    ['listeners'],
  ),
};
