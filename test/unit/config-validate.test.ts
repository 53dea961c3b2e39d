import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfigText } from '../../src/config/load.js';
import { formatConfigErrors } from '../../src/config/format-errors.js';
import type { ConfigError } from '../../src/config/types.js';

type Row = [line: number, column: number, path: string, code: string];

function errorsOf(text: string, env: Record<string, string> = {}): readonly ConfigError[] {
  const r = loadConfigText(text, 'loom.yaml', env);
  assert.ok(!r.ok, 'expected the config to be rejected');
  return r.errors;
}

/** Asserts the complete error list (position, path, code), in order. */
function expectErrors(text: string, rows: Row[]): readonly ConfigError[] {
  const errors = errorsOf(text);
  assert.deepEqual(
    errors.map((e) => [e.line, e.column, e.path, e.code]),
    rows,
    formatConfigErrors(errors),
  );
  return errors;
}

const LISTENER = 'listeners:\n  - name: http\n    address: ":8080"\n';
const UPSTREAM = 'upstreams:\n  - name: backend\n    endpoints: ["api:8080"]\n';

test('a minimal config loads', () => {
  const r = loadConfigText(LISTENER, 'loom.yaml', {});
  assert.ok(r.ok);
  assert.deepEqual(r.config, {
    listeners: [{ name: 'http', address: ':8080', host: '', port: 8080, protocol: 'http' }],
    routes: [],
    upstreams: [],
    shutdown_timeout: 30000,
    admin: { enabled: true, address: '127.0.0.1:9091', host: '127.0.0.1', port: 9091, required_upstreams: [] },
    metrics: { enabled: true, path: '/metrics' },
    access_log: { enabled: true, format: 'json', sample_ratio: 1, always_log_errors: true },
  });
  assert.ok(Object.isFrozen(r.config.listeners[0]));
});

test('YAML syntax errors carry line:column', () => {
  const [e] = expectErrors('listeners:\n  - name: a\n   address: x\n', [[3, 1, '', 'yaml_syntax']]);
  assert.ok(e.message.length > 0);
  expectErrors(LISTENER + 'routes: []\nroutes: []\n', [[5, 1, '', 'duplicate_key']]);
});

test('unquoted ${…} in a flow mapping gets a hint to quote it', () => {
  const [e] = errorsOf(LISTENER + UPSTREAM + '    pool: { idle_timeout: ${IDLE} }\n', { IDLE: '1s' });
  assert.equal(e.code, 'yaml_syntax');
  assert.match(e.hint ?? '', /quote/);
});

test('an empty document needs listeners; so does an empty list', () => {
  const [e] = expectErrors('', [[1, 1, 'listeners', 'missing_key']]);
  assert.equal(e.message, 'missing required key "listeners"');
  expectErrors('listeners: []\n', [[1, 12, 'listeners', 'empty_list']]);
});

test('unknown keys point at the key and suggest the nearest allowed key', () => {
  const errors = expectErrors(
    LISTENER + UPSTREAM + '    loadbalancer: round_robin\n    pool: { max_per_host: 10 }\nroutes:\n  - id: a\n    path: /\n    upstream: backend\n    query_params: { a: b }\n    wat: 1\nlisteners_: 1\n',
    [
      [7, 5, 'upstreams[0].loadbalancer', 'unknown_key'],
      [8, 13, 'upstreams[0].pool.max_per_host', 'unknown_key'],
      [13, 5, 'routes[0].query_params', 'unknown_key'],
      [14, 5, 'routes[0].wat', 'unknown_key'],
      [15, 1, 'listeners_', 'unknown_key'],
    ],
  );
  assert.deepEqual(
    errors.map((e) => e.hint),
    [
      'did you mean `load_balancer`?',
      'did you mean `max_open`?',
      'did you mean `query`?',
      'allowed keys here: id, path, host, methods, headers, query, priority, upstream, strip_prefix, retry_non_idempotent, timeout, plugins',
      'did you mean `listeners`?',
    ],
  );
  assert.equal(errors[0].message, 'unknown key "loadbalancer"');
});

test('enum mismatches list the allowed values or suggest one', () => {
  const errors = expectErrors(
    LISTENER + '    protocol: htp\n' + UPSTREAM + '    load_balancer: round-robin\n    host_header: backend\n',
    [
      [4, 15, 'listeners[0].protocol', 'invalid_enum'],
      [8, 20, 'upstreams[0].load_balancer', 'invalid_enum'],
      [9, 18, 'upstreams[0].host_header', 'invalid_enum'],
    ],
  );
  assert.equal(errors[0].hint, 'did you mean "http"?');
  assert.equal(errors[1].message, 'unknown value "round-robin"');
  assert.equal(errors[1].hint, 'did you mean "round_robin"?');
  assert.equal(errors[2].hint, 'allowed values: client, endpoint');
});

test('types, durations and ranges', () => {
  const errors = expectErrors(
    LISTENER +
      UPSTREAM +
      '    pool: { max_idle: -1, max_open: 0, idle_timeout: 90 }\n' +
      '    timeout: { connect: 5x, read: 0s, write: "30", idle: 1h }\n' +
      '    consistent_hash: { replicas: 1.5 }\n' +
      'routes:\n  - id: r\n    path: /\n    upstream: backend\n    strip_prefix: yes\n    priority: high\n    headers: { X-Version: 2 }\n',
    [
      [7, 23, 'upstreams[0].pool.max_idle', 'out_of_range'],
      [7, 37, 'upstreams[0].pool.max_open', 'out_of_range'],
      [7, 54, 'upstreams[0].pool.idle_timeout', 'invalid_duration'],
      [8, 25, 'upstreams[0].timeout.connect', 'invalid_duration'],
      [8, 35, 'upstreams[0].timeout.read', 'out_of_range'],
      [8, 46, 'upstreams[0].timeout.write', 'invalid_duration'],
      [9, 5, 'upstreams[0].consistent_hash', 'ignored_setting'],
      [9, 34, 'upstreams[0].consistent_hash.replicas', 'invalid_type'],
      [14, 19, 'routes[0].strip_prefix', 'invalid_type'],
      [15, 15, 'routes[0].priority', 'invalid_type'],
      [16, 27, 'routes[0].headers.X-Version', 'invalid_type'],
    ],
  );
  const byPath = Object.fromEntries(errors.map((e) => [e.path, e]));
  assert.equal(byPath['upstreams[0].pool.idle_timeout'].hint, 'add a unit, e.g. 30s');
  assert.equal(byPath['upstreams[0].timeout.write'].hint, 'add a unit, e.g. 30s');
  assert.equal(byPath['upstreams[0].pool.max_open'].message, 'must be >= 1, got 0');
  assert.equal(byPath['routes[0].strip_prefix'].message, 'must be true or false, got "yes"');
  assert.equal(byPath['routes[0].headers.X-Version'].hint, 'quote it: "2"');
});

test('required keys are reported at the item that lacks them', () => {
  expectErrors('listeners:\n  - address: ":80"\nroutes:\n  - path: /\nupstreams:\n  - name: x\n', [
    [2, 5, 'listeners[0].name', 'missing_key'],
    [4, 5, 'routes[0].id', 'missing_key'],
    [4, 5, 'routes[0].upstream', 'missing_key'],
    [6, 5, 'upstreams[0].endpoints', 'missing_key'],
  ]);
});

test('a route naming a missing upstream suggests the nearest name or lists them', () => {
  const routes = 'routes:\n  - { id: a, path: /a, upstream: backnd }\n  - { id: b, path: /b, upstream: zzz }\n';
  const errors = expectErrors(LISTENER + UPSTREAM + routes, [
    [8, 34, 'routes[0].upstream', 'missing_upstream'],
    [9, 34, 'routes[1].upstream', 'missing_upstream'],
  ]);
  assert.equal(errors[0].hint, 'did you mean "backend"?');
  assert.equal(errors[1].hint, 'defined upstreams: backend');
  assert.equal(errorsOf(LISTENER + routes)[0].hint, 'no upstreams are defined; add one under `upstreams`');
});

test('duplicates point at the second occurrence and name the line of the first', () => {
  const errors = expectErrors(
    'listeners:\n  - { name: a, address: ":1" }\n  - { name: a, address: ":2" }\n' +
      'upstreams:\n  - { name: u, endpoints: ["x:1", "x:1"] }\n  - { name: u, endpoints: ["y:1"] }\n' +
      'routes:\n  - { id: r, path: /, upstream: u }\n  - { id: r, path: /b, upstream: u }\n',
    [
      [3, 13, 'listeners[1].name', 'duplicate'],
      [5, 35, 'upstreams[0].endpoints[1]', 'duplicate'],
      [6, 13, 'upstreams[1].name', 'duplicate'],
      [9, 11, 'routes[1].id', 'duplicate'],
    ],
  );
  assert.equal(errors[0].message, 'duplicate listener name "a" (first defined at line 2)');
  assert.equal(errors[3].message, 'duplicate route id "r" (first defined at line 8)');
});

test('endpoints: no scheme, a port, a valid host', () => {
  const errors = expectErrors(
    LISTENER + 'upstreams:\n  - name: u\n    endpoints:\n      - http://api:8080\n      - api\n      - "api:99999"\n      - "[::1]:80"\n      - "::1:80"\n',
    [
      [7, 9, 'upstreams[0].endpoints[0]', 'endpoint_scheme'],
      [8, 9, 'upstreams[0].endpoints[1]', 'endpoint_port'],
      [9, 9, 'upstreams[0].endpoints[2]', 'invalid_endpoint'],
      [11, 9, 'upstreams[0].endpoints[4]', 'invalid_endpoint'],
    ],
  );
  assert.equal(errors[0].hint, 'write endpoints as host:port without the scheme, e.g. api:8080');
});

test('weights: only endpoints named, positive integers; weighted without weights is fine', () => {
  const errors = expectErrors(
    LISTENER + UPSTREAM + '    load_balancer: weighted\n    weights:\n      "api:8081": 2\n      "api:8080": 0\n',
    [
      [9, 7, 'upstreams[0].weights["api:8081"]', 'unknown_endpoint'],
      [10, 19, 'upstreams[0].weights["api:8080"]', 'invalid_weight'],
    ],
  );
  assert.equal(errors[0].hint, 'did you mean "api:8080"?');
  expectErrors(LISTENER + UPSTREAM + '    weights: { "api:8080": 1.5 }\n', [
    [7, 5, 'upstreams[0].weights', 'ignored_setting'],
    [7, 28, 'upstreams[0].weights["api:8080"]', 'invalid_weight'],
  ]);
  const ok = loadConfigText(LISTENER + UPSTREAM + '    load_balancer: weighted\n', 'loom.yaml', {});
  assert.ok(ok.ok);
  assert.deepEqual(ok.config.upstreams[0].weights, {});
});

test('listener addresses', () => {
  const errors = expectErrors(
    'listeners:\n  - { name: a, address: "8080" }\n  - { name: b, address: ":70000" }\n  - { name: c, address: "http://x:80" }\n  - { name: d, address: "[::1]:0" }\n  - { name: e, address: "localhost:0" }\n',
    [
      [2, 25, 'listeners[0].address', 'invalid_address'],
      [3, 25, 'listeners[1].address', 'invalid_address'],
      [4, 25, 'listeners[2].address', 'invalid_address'],
    ],
  );
  assert.match(errors[1].message, /port 70000 is out of range/);
});

test('route paths, methods, hosts, header names', () => {
  const route = (i: number, extra: string): string => `  - { id: r${i}, upstream: backend, ${extra} }\n`;
  const errors = expectErrors(
    LISTENER +
      UPSTREAM +
      'routes:\n' +
      route(0, 'path: api') +
      route(1, 'path: /api*') +
      route(2, 'path: "/a/*/b"') +
      route(3, 'path: "/a/{id}/{id}"') +
      route(4, 'path: "/a/x{id}"') +
      route(5, 'path: "/a//b"') +
      route(6, 'path: "/a?b=1"') +
      route(7, 'path: /, methods: [get, "BAD METHOD"]') +
      route(8, 'path: /, host: "api.example.com:443"') +
      route(9, 'path: /, host: "a.*.com"') +
      route(10, 'path: /, headers: { "bad header": x }') +
      route(11, 'path: /, methods: []'),
    [
      [8, 40, 'routes[0].path', 'invalid_path'],
      [9, 40, 'routes[1].path', 'invalid_path'],
      [10, 40, 'routes[2].path', 'invalid_path'],
      [11, 40, 'routes[3].path', 'invalid_path'],
      [12, 40, 'routes[4].path', 'invalid_path'],
      [13, 40, 'routes[5].path', 'invalid_path'],
      [14, 40, 'routes[6].path', 'invalid_path'],
      [15, 58, 'routes[7].methods[1]', 'invalid_method'],
      [16, 49, 'routes[8].host', 'invalid_host'],
      [17, 49, 'routes[9].host', 'invalid_host'],
      [18, 55, 'routes[10].headers["bad header"]', 'invalid_header_name'],
      [19, 53, 'routes[11].methods', 'empty_list'],
    ],
  );
  assert.equal(errors[8].hint, 'write the host without the port');
  assert.equal(errors[11].hint, 'omit `methods` to match every method');
});

test('consistent_hash.hash_key syntax and pool limits', () => {
  const errors = expectErrors(
    LISTENER + UPSTREAM + '    consistent_hash: { hash_key: "body:x" }\n    pool: { max_idle: 20, max_open: 10 }\n',
    [
      [7, 5, 'upstreams[0].consistent_hash', 'ignored_setting'],
      [7, 34, 'upstreams[0].consistent_hash.hash_key', 'invalid_hash_key'],
      [8, 23, 'upstreams[0].pool.max_idle', 'pool_limits'],
    ],
  );
  assert.equal(errors[2].message, 'max_idle (20) must not exceed max_open (10)');
});

test('not-supported keys: one error at the key, nothing reported inside it', () => {
  const errors = expectErrors(
    LISTENER +
      '    protocol: grpc\n    tls: { cert_file: a, bogus: 1 }\n' +
      UPSTREAM +
      '    tls: {}\n    bulkhead: {}\n    service_discovery: {}\n' +
      'routes:\n  - { id: r, path: /, upstream: backend, plugins: [auth] }\n' +
      'admin: {}\nmetrics: { opentelemetry: { enabled: true } }\ntracing: {}\nplugins: []\nrate_limit: {}\ncors: {}\ncache: {}\nai_gateway: {}\nebpf: {}\ngraphql: {}\nlogging: {}\n',
    [
      [4, 15, 'listeners[0].protocol', 'not_supported'],
      [5, 5, 'listeners[0].tls', 'not_supported'],
      [9, 5, 'upstreams[0].tls', 'not_supported'],
      [10, 5, 'upstreams[0].bulkhead', 'not_supported'],
      [11, 5, 'upstreams[0].service_discovery', 'not_supported'],
      [13, 42, 'routes[0].plugins', 'not_supported'],
      [15, 12, 'metrics.opentelemetry', 'not_supported'],
      [17, 1, 'plugins', 'not_supported'],
      [18, 1, 'rate_limit', 'not_supported'],
      [19, 1, 'cors', 'not_supported'],
      [20, 1, 'cache', 'not_supported'],
      [21, 1, 'ai_gateway', 'not_supported'],
      [22, 1, 'ebpf', 'not_supported'],
      [23, 1, 'graphql', 'not_supported'],
    ],
  );
  assert.equal(errors[2].message, '"upstreams[0].tls" is not supported yet');
  assert.match(errors[2].hint ?? '', /TLS/);
  assert.equal(errors[0].message, '"listeners[0].protocol: grpc" is not supported yet');
});

test('many errors at once, sorted by line', () => {
  const errors = errorsOf(
    'routes:\n  - { id: a, path: nope, upstream: x }\nlisteners:\n  - { name: l, address: bad }\nupstreams:\n  - { name: u, endpoints: ["http://u:1"], load_balancer: rr }\n',
  );
  assert.deepEqual(
    errors.map((e) => e.line),
    [...errors.map((e) => e.line)].sort((a, b) => a - b),
  );
  assert.deepEqual(
    errors.map((e) => e.code),
    ['invalid_path', 'missing_upstream', 'invalid_address', 'endpoint_scheme', 'invalid_enum'],
  );
});

test('formatConfigErrors: file:line:col: path: message (hint: …)', () => {
  const text = formatConfigErrors(errorsOf(LISTENER + UPSTREAM + '    load_balancer: round-robin\n'));
  assert.equal(text, 'loom.yaml:7:20: upstreams[0].load_balancer: unknown value "round-robin" (hint: did you mean "round_robin"?)');
});

test('settings a balancer ignores are errors, not silently dropped', () => {
  const errors = expectErrors(LISTENER + UPSTREAM + '    weights: { "api:8080": 2 }\n    consistent_hash: { replicas: 10 }\n', [
    [7, 5, 'upstreams[0].weights', 'ignored_setting'],
    [8, 5, 'upstreams[0].consistent_hash', 'ignored_setting'],
  ]);
  assert.match(errors[0].hint ?? '', /load_balancer: weighted/);
  const ipHash = loadConfigText(LISTENER + UPSTREAM + '    load_balancer: ip_hash\n    consistent_hash: { replicas: 10 }\n', 'loom.yaml', {});
  assert.ok(ipHash.ok, 'ip_hash reads replicas');
  expectErrors(LISTENER + UPSTREAM + '    load_balancer: ip_hash\n    consistent_hash: { hash_key: "header:x" }\n', [[8, 24, 'upstreams[0].consistent_hash.hash_key', 'ignored_setting']]);
});

test('two listeners on one address are an error (port 0 excepted)', () => {
  expectErrors('listeners:\n  - { name: a, address: ":8080" }\n  - { name: b, address: ":8080" }\n  - { name: c, address: "127.0.0.1:0" }\n  - { name: d, address: "127.0.0.1:0" }\n', [
    [3, 25, 'listeners[1].address', 'duplicate'],
  ]);
});

test('route paths with dot segments or :param are errors with a hint, never a crash later', () => {
  const errors = expectErrors(
    LISTENER + UPSTREAM + 'routes:\n  - { id: a, path: "/api/../x", upstream: backend }\n  - { id: b, path: "/api/:id", upstream: backend }\n',
    [
      [8, 20, 'routes[0].path', 'invalid_path'],
      [9, 20, 'routes[1].path', 'invalid_path'],
    ],
  );
  assert.match(errors[1].message, /\{id\}/);
});

test('resilience blocks: ranges and cross-field limits', () => {
  expectErrors(
    LISTENER +
      UPSTREAM +
      '    health_check: { interval: 1s, timeout: 2s, unhealthy_threshold: 0 }\n' +
      '    retry: { backoff_base: 2s, backoff_max: 1s, retryable_codes: [700] }\n' +
      '    circuit_breaker: { failure_on: [5xx, teapot] }\n' +
      '    outlier_detection: { max_ejection_percent: 101 }\n',
    [
      [7, 44, 'upstreams[0].health_check.timeout', 'invalid_limits'],
      [7, 69, 'upstreams[0].health_check.unhealthy_threshold', 'out_of_range'],
      [8, 28, 'upstreams[0].retry.backoff_base', 'invalid_limits'],
      [8, 67, 'upstreams[0].retry.retryable_codes[0]', 'out_of_range'],
      [9, 42, 'upstreams[0].circuit_breaker.failure_on[1]', 'invalid_enum'],
      [10, 48, 'upstreams[0].outlier_detection.max_ejection_percent', 'out_of_range'],
    ],
  );
});

test('listen addresses that would take the same socket clash: every-interface, localhost and exact matches', () => {
  const two = (a: string, b: string) => `listeners:\n  - { name: a, address: "${a}" }\n  - { name: b, address: "${b}" }\n`;
  for (const [a, b] of [
    [':8080', '127.0.0.1:8080'],
    ['0.0.0.0:8080', '10.0.0.1:8080'],
    ['localhost:8080', '127.0.0.1:8080'],
    ['[::]:8080', '127.0.0.1:8080'],
    ['127.0.0.1:8080', '127.0.0.1:8080'],
  ]) {
    expectErrors(two(a, b), [[3, 25, 'listeners[1].address', 'duplicate']]);
  }
  for (const [a, b] of [
    ['127.0.0.1:8080', '127.0.0.2:8080'],
    [':0', ':0'],
    [':8080', ':8081'],
  ]) {
    assert.ok(loadConfigText(two(a, b), 'loom.yaml', {}).ok, `${a} and ${b} can both bind`);
  }
  // The admin listener may not take a data-plane socket either.
  const [e] = expectErrors(LISTENER + 'admin:\n  address: "127.0.0.1:8080"\n', [[5, 12, 'admin.address', 'duplicate']]);
  assert.match(e.hint ?? '', /port of its own/);
  assert.ok(loadConfigText(LISTENER + 'admin:\n  address: "127.0.0.1:9091"\n', 'loom.yaml', {}).ok);
});

test('the metrics path may not hide an admin endpoint', () => {
  for (const path of ['/health', '/ready', '/upstreams', '/upstreams/x', '/routes', '/config', '/plugins', '/reload']) {
    const [e] = expectErrors(LISTENER + `metrics:\n  prometheus:\n    path: "${path}"\n`, [[6, 11, 'metrics.prometheus.path', 'invalid_path']]);
    assert.match(e.message, /would hide an admin endpoint/);
  }
  assert.ok(loadConfigText(LISTENER + 'metrics:\n  prometheus:\n    path: /prom\n', 'loom.yaml', {}).ok);
});
