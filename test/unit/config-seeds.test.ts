// The YAML of the seed documents (Upstreams page, FAQ) is the contract: what the seeds
// show must load with the documented defaults, and what they show of later features
// must fail with `not_supported` exactly there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromRoot } from '../helpers/paths.js';
import { loadConfigText } from '../../src/config/load.js';
import { formatConfigErrors } from '../../src/config/format-errors.js';
import type { GatewayConfig } from '../../src/config/types.js';

const ENV = { BACKEND_HOST: 'api.internal', BACKEND_PORT: '9000', TLS_CERT_PATH: '/etc/loom/cert.pem' };

function load(name: string): GatewayConfig {
  const r = loadConfigText(readFileSync(fromRoot('test/golden/config', name), 'utf8'), name, ENV);
  assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
  return r.config;
}

function rejected(name: string): [number, string, string][] {
  const r = loadConfigText(readFileSync(fromRoot('test/golden/config-errors', name), 'utf8'), name, ENV);
  assert.ok(!r.ok);
  return r.errors.map((e) => [e.line, e.path, e.code]);
}

const DEFAULT_UPSTREAM = {
  weights: {},
  consistent_hash: { hash_key: { kind: 'client_ip' }, replicas: 160 },
  pool: { max_idle: 100, max_open: 1000, idle_timeout: 90_000 },
  timeout: { connect: 5_000, read: 30_000, write: 30_000, idle: 90_000 },
  host_header: 'client',
};

test('seed load balancers load with the documented defaults', () => {
  const cases: [string, string][] = [
    ['seed-basic.yaml', 'round_robin'],
    ['seed-round-robin.yaml', 'round_robin'],
    ['seed-least-conn.yaml', 'least_conn'],
    ['seed-random.yaml', 'random'],
    ['seed-ip-hash.yaml', 'ip_hash'],
    ['seed-endpoint-format.yaml', 'round_robin'],
  ];
  for (const [file, lb] of cases) {
    const [u] = load(file).upstreams;
    assert.equal(u.load_balancer, lb, file);
    assert.deepEqual({ ...u, name: undefined, endpoints: undefined, load_balancer: undefined }, { ...DEFAULT_UPSTREAM, name: undefined, endpoints: undefined, load_balancer: undefined }, file);
  }
});

test('seed weighted example keeps its weights', () => {
  const [u] = load('seed-weighted.yaml').upstreams;
  assert.equal(u.load_balancer, 'weighted');
  assert.deepEqual(u.weights, { 'api-1:8080': 70, 'api-2:8080': 30 });
});

test('seed pool and timeout examples equal the defaults they document', () => {
  assert.deepEqual(load('seed-pool.yaml').upstreams[0].pool, DEFAULT_UPSTREAM.pool);
  assert.deepEqual(load('seed-timeout.yaml').upstreams[0].timeout, DEFAULT_UPSTREAM.timeout);
});

test('seed route examples: strip_prefix and the four path patterns', () => {
  const [r] = load('seed-faq-strip-prefix.yaml').routes;
  assert.equal(r.strip_prefix, true);
  assert.equal(r.priority, 0);
  assert.equal(r.methods, undefined);
  assert.deepEqual(load('seed-faq-path-patterns.yaml').routes.map((x) => x.path), ['/api', '/api/*', '/api/{id}', '/api/{id}/items']);
});

test('seed Complete Example loads unchanged, with the seed values and defaults', () => {
  const c = load('seed-complete-example.yaml');
  const [api, cdn] = c.upstreams;
  assert.deepEqual(api.health_check, { path: '/health', interval: 10_000, timeout: 2_000, healthy_threshold: 2, unhealthy_threshold: 3, expected_status: 200 });
  assert.deepEqual(api.circuit_breaker, { failure_threshold: 5, success_threshold: 3, timeout: 30_000, half_open_requests: 1, failure_on: ['connect_error', 'timeout', '5xx'] });
  assert.deepEqual(api.retry, {
    max_retries: 3,
    backoff_base: 100,
    backoff_max: 10_000,
    retryable_codes: [502, 503, 504],
    buffer_limit: 64 * 1024,
    budget_percent: 20,
    min_retry_concurrency: 3,
  });
  assert.equal(api.outlier_detection, undefined);
  assert.deepEqual(cdn.health_check, { path: '/', interval: 30_000, timeout: 2_000, healthy_threshold: 2, unhealthy_threshold: 3, expected_status: 200 });
  assert.equal(cdn.retry, undefined);
});

test('seed FAQ TLS, HTTP/3, rate limit, eBPF and upstream TLS blocks: not_supported only', () => {
  assert.deepEqual(rejected('seed-faq-tls.yaml'), [
    [5, 'listeners[0].protocol', 'not_supported'],
    [6, 'listeners[0].tls', 'not_supported'],
  ]);
  assert.deepEqual(rejected('seed-faq-http3.yaml'), [
    [5, 'listeners[0].protocol', 'not_supported'],
    [6, 'listeners[0].tls', 'not_supported'],
  ]);
  assert.deepEqual(rejected('seed-faq-rate-limit-ebpf.yaml'), [
    [5, 'rate_limit', 'not_supported'],
    [10, 'ebpf', 'not_supported'],
  ]);
  assert.deepEqual(rejected('seed-upstream-tls.yaml'), [[9, 'upstreams[0].tls', 'not_supported']]);
});

test('seed FAQ env example: endpoints substitute; the listener lacks an address and its tls is not supported', () => {
  assert.deepEqual(rejected('seed-faq-env.yaml'), [
    [9, 'listeners[0].address', 'missing_key'],
    [10, 'listeners[0].tls', 'not_supported'],
  ]);
});

test('seed FAQ tracing block loads unchanged: OTLP gRPC to the collector, 10% of new traces', () => {
  const config = load('seed-faq-tracing.yaml');
  assert.deepEqual(config.tracing, {
    provider: 'otlp',
    service_name: 'loom',
    endpoint: 'otel-collector:4317',
    protocol: 'grpc',
    headers: {},
    ratio: 0.1,
    parent_based: true,
    batch_timeout: 5000,
  });
  // The FAQ's admin commands (curl localhost:9091/health, /ready, /metrics) work with no admin block.
  assert.equal(config.admin.address, '127.0.0.1:9091');
  assert.equal(config.metrics.path, '/metrics');
});
