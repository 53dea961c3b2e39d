import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substituteEnv } from '../../src/config/substitute-env.js';
import { loadConfigText } from '../../src/config/load.js';
import type { ConfigError, GatewayConfig } from '../../src/config/types.js';

test('substituteEnv: ${VAR}, ${VAR:-default}, $${ escape, other $ kept', () => {
  const env = { HOST: 'api', PORT: '8080', EMPTY: '' };
  const cases: [string, string][] = [
    ['${HOST}:${PORT}', 'api:8080'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['${HOST:-x}', 'api'],
    ['${MISSING:-}', ''],
    ['$${HOST}', '${HOST}'],
    ['cost: $5, $HOST', 'cost: $5, $HOST'],
    ['no vars', 'no vars'],
    ['${MISSING:-a:-b}', 'a:-b'],
  ];
  for (const [input, out] of cases) {
    const r = substituteEnv(input, env);
    assert.deepEqual(r.problems, [], input);
    assert.equal(r.value, out, input);
  }
  assert.equal(substituteEnv('$${X}', {}).substituted, false);
  assert.equal(substituteEnv('${HOST}', env).substituted, true);
});

test('substituteEnv: unset variables and bad syntax are problems', () => {
  const r = substituteEnv('${A}:${B}', { B: '1' });
  assert.deepEqual(r.problems.map((p) => [p.code, p.variable]), [['env_unset', 'A']]);
  assert.match(r.problems[0].message, /A is not set/);
  assert.equal(substituteEnv('${1A}', {}).problems[0].code, 'env_syntax');
  assert.equal(substituteEnv('${A', { A: 'x' }).problems[0].code, 'env_syntax');
  assert.equal(substituteEnv('${}', {}).problems[0].code, 'env_syntax');
});

const load = (text: string, env: Record<string, string | undefined>): GatewayConfig => {
  const r = loadConfigText(text, 'loom.yaml', env);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors, null, 1));
  return r.config;
};
const errorsOf = (text: string, env: Record<string, string | undefined>): readonly ConfigError[] => {
  const r = loadConfigText(text, 'loom.yaml', env);
  assert.ok(!r.ok, 'expected errors');
  return r.errors;
};

const CONFIG = `listeners:
  - name: http
    address: "\${LISTEN_HOST:-}:\${PORT}"
routes:
  - id: api
    path: /api/*
    upstream: \${UPSTREAM:-backend}
    priority: \${PRIORITY}
    strip_prefix: \${STRIP}
upstreams:
  - name: backend
    endpoints:
      - \${BACKEND_HOST}:\${BACKEND_PORT}
    weights:
      "\${BACKEND_HOST}:\${BACKEND_PORT}": \${WEIGHT}
    consistent_hash:
      replicas: "\${REPLICAS}"
    pool:
      max_idle: \${MAX_IDLE}
      idle_timeout: \${IDLE:-30s}
    load_balancer: consistent_hash
`;

const ENV = { PORT: '8080', PRIORITY: '-3', STRIP: 'true', BACKEND_HOST: 'api.internal', BACKEND_PORT: '9000', WEIGHT: '5', REPLICAS: '40', MAX_IDLE: '7' };

test('substitution happens before type checks; numeric and boolean results are coerced where the schema wants them', () => {
  const c = load(CONFIG, ENV);
  assert.equal(c.listeners[0].address, ':8080');
  assert.equal(c.listeners[0].port, 8080);
  assert.equal(c.routes[0].upstream, 'backend');
  assert.equal(c.routes[0].priority, -3);
  assert.equal(c.routes[0].strip_prefix, true);
  assert.deepEqual(c.upstreams[0].endpoints, ['api.internal:9000']);
  assert.deepEqual(c.upstreams[0].weights, { 'api.internal:9000': 5 });
  assert.equal(c.upstreams[0].consistent_hash.replicas, 40, 'a quoted ${…} is coerced too');
  assert.equal(c.upstreams[0].pool.max_idle, 7);
  assert.equal(c.upstreams[0].pool.idle_timeout, 30_000);
});

test('a substituted value that does not fit the type is a type error at the value', () => {
  const errors = errorsOf(CONFIG, { ...ENV, MAX_IDLE: 'lots' });
  assert.deepEqual(
    errors.map((e) => [e.line, e.column, e.path, e.code]),
    [[19, 17, 'upstreams[0].pool.max_idle', 'invalid_type']],
  );
});

test('literal strings are not coerced: only substituted scalars are', () => {
  const errors = errorsOf(CONFIG.replace('max_idle: ${MAX_IDLE}', 'max_idle: "7"'), ENV);
  assert.deepEqual(errors.map((e) => e.code), ['invalid_type']);
});

test('a name that looks like a number stays a string', () => {
  const c = load(CONFIG.replace('name: backend', 'name: ${NAME}').replace('${UPSTREAM:-backend}', '"${NAME}"'), { ...ENV, NAME: '1234' });
  assert.equal(c.upstreams[0].name, '1234');
});

test('every unset variable is reported with its name, key path and position', () => {
  const errors = errorsOf(CONFIG, { ...ENV, BACKEND_HOST: undefined, PORT: undefined });
  assert.deepEqual(
    errors.map((e) => [e.line, e.column, e.path, e.code, e.message]),
    [
      [3, 14, 'listeners[0].address', 'env_unset', 'environment variable PORT is not set'],
      [13, 9, 'upstreams[0].endpoints[0]', 'env_unset', 'environment variable BACKEND_HOST is not set'],
      [15, 7, 'upstreams[0].weights[":9000"]', 'env_unset', 'environment variable BACKEND_HOST is not set'],
    ],
  );
  assert.equal(errors[0].hint, 'set PORT, or give a default: ${PORT:-value}');
});

test('$${ keeps a literal ${ in a value', () => {
  const c = load(CONFIG.replace('id: api', () => 'id: "a$${x}"').replace('${UPSTREAM:-backend}', 'backend'), ENV);
  assert.equal(c.routes[0].id, 'a${x}');
});
