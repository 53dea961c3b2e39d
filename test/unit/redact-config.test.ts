import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, isSecretKey, redactConfig } from '../../src/admin/redact-config.js';

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const sample = () => ({
  listeners: [{ name: 'http', address: ':8080', host: '', port: 8080, protocol: 'http' }],
  routes: [{ id: 'r1', path: '/api/*', priority: 0, upstream: 'api', strip_prefix: false, retry_non_idempotent: false, headers: { 'x-env': 'prod' } }],
  upstreams: [
    {
      name: 'api',
      endpoints: ['10.0.0.1:80'],
      load_balancer: 'consistent_hash',
      weights: {},
      consistent_hash: { hash_key: { kind: 'header', name: 'X-User' }, replicas: 160 },
      pool: { max_idle: 100, max_open: 1000, idle_timeout: 90000 },
      timeout: { connect: 5000, read: 30000, write: 30000, idle: 90000 },
      host_header: 'client',
      keepalive: true,
    },
  ],
  shutdown_timeout: 30000,
  admin: {
    enabled: true,
    address: '127.0.0.1:9091',
    host: '127.0.0.1',
    port: 9091,
    required_upstreams: ['api'],
    auth: {
      realm: 'Gateway Admin',
      users: { alice: '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234', bob: '$2y$12$zzz' },
      token: 'admin-token-123',
    },
  },
  tracing: {
    provider: 'otlp',
    service_name: 'loom',
    endpoint: 'collector:4317',
    protocol: 'grpc',
    headers: { 'x-honeycomb-team': 'hc-key', Authorization: 'Bearer abc' },
    ratio: 1,
  },
  tls: { cert_file: '/etc/loom/cert.pem', key_file: '/etc/loom/key.pem' },
});

type Sample = ReturnType<typeof sample>;

test('admin.auth.users values are redacted, user names kept', () => {
  const out = redactConfig(sample()) as Sample;
  assert.deepEqual(out.admin.auth.users, { alice: REDACTED, bob: REDACTED });
  assert.equal(out.admin.auth.realm, 'Gateway Admin');
});

test('admin.auth.token is redacted', () => {
  const out = redactConfig(sample()) as Sample;
  assert.equal(out.admin.auth.token, REDACTED);
});

test('tracing.headers values are redacted, header names kept', () => {
  const out = redactConfig(sample()) as Sample;
  assert.deepEqual(out.tracing.headers, { 'x-honeycomb-team': REDACTED, Authorization: REDACTED });
  assert.equal(out.tracing.endpoint, 'collector:4317');
});

test('generic: a nested password (e.g. a future redis block) is redacted wherever it is', () => {
  const cfg = {
    rate_limit: { backend: 'redis', redis: { address: 'redis:6379', password: 'hunter2', db: 0 } },
    ai_gateway: {
      providers: [
        { name: 'openai', api_key: 'sk-1', max_tokens: 4096 },
        { name: 'other', apiKey: 'k-2', 'X-Api-Key': 'k-3', token_limit: 10 },
      ],
    },
  };
  const out = redactConfig(cfg) as typeof cfg;
  assert.equal(out.rate_limit.redis.password, REDACTED);
  assert.equal(out.rate_limit.redis.address, 'redis:6379');
  assert.equal(out.rate_limit.redis.db, 0);
  assert.equal(out.ai_gateway.providers[0].api_key, REDACTED);
  assert.equal(out.ai_gateway.providers[0].max_tokens, 4096);
  assert.deepEqual(out.ai_gateway.providers[1], { name: 'other', apiKey: REDACTED, 'X-Api-Key': REDACTED, token_limit: 10 });
});

test('generic key list: every listed name, any case, as a whole word or suffix', () => {
  for (const k of [
    'password', 'PASSWORD', 'Password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'API_KEY', 'access_key',
    'private_key', 'authorization', 'Authorization', 'credential', 'credentials', 'client_secret', 'clientSecret',
    'redis_password', 'auth_token', 'aws_secret_access_key', 'secret_key', 'x-api-key', 'APIKey', 'bearerToken',
  ]) {
    assert.equal(isSecretKey(k), true, k);
  }
  for (const k of [
    'key_file', 'cert_file', 'password_file', 'token_url', 'hash_key', 'keepalive', 'max_tokens', 'token_limit',
    'tokens_per_minute', 'name', 'realm', 'users', 'headers', 'host_header', 'secretary', 'passwords_allowed',
  ]) {
    assert.equal(isSecretKey(k), false, k);
  }
});

test('non-secret keys are kept: key_file, hash_key, keepalive and the rest of the config', () => {
  const input = sample();
  const out = redactConfig(input) as Sample;
  assert.deepEqual(out.tls, { cert_file: '/etc/loom/cert.pem', key_file: '/etc/loom/key.pem' });
  assert.deepEqual(out.upstreams[0].consistent_hash.hash_key, { kind: 'header', name: 'X-User' });
  assert.equal(out.upstreams[0].keepalive, true);
  // Everything outside the secret locations is unchanged.
  const expected = sample() as Record<string, any>;
  expected.admin.auth.users = { alice: REDACTED, bob: REDACTED };
  expected.admin.auth.token = REDACTED;
  expected.tracing.headers = { 'x-honeycomb-team': REDACTED, Authorization: REDACTED };
  assert.deepEqual(out, expected);
});

test('the input is not mutated (and may be frozen)', () => {
  const input = deepFreeze(sample());
  const before = JSON.stringify(input);
  const out = redactConfig(input) as Sample;
  assert.equal(JSON.stringify(input), before);
  assert.equal(input.admin.auth.token, 'admin-token-123');
  assert.notEqual(out, input);
  assert.notEqual(out.admin, input.admin);
  assert.notEqual(out.listeners, input.listeners);
  assert.equal(Object.isFrozen(out), false);
});

test('empty and absent secrets stay as they are; non-string secrets are redacted', () => {
  const out = redactConfig({
    admin: { auth: { realm: 'r', users: {}, token: '' } },
    db: { password: undefined, secret: null, token: 1234, api_key: false, credentials: { user: 'u', pass: 'p', empty: '' } },
  }) as any;
  assert.deepEqual(out.admin.auth, { realm: 'r', users: {}, token: '' });
  assert.equal(out.db.password, undefined);
  assert.equal(out.db.secret, null);
  assert.equal(out.db.token, REDACTED, 'YAML reads `token: 1234` as a number');
  assert.equal(out.db.api_key, REDACTED);
  assert.deepEqual(out.db.credentials, { user: REDACTED, pass: REDACTED, empty: '' }, 'shape kept, every leaf redacted');
});

test('the copy is JSON-safe: plain data, no prototype tricks, cycles cut', () => {
  const users = JSON.parse('{"__proto__": "$2b$10$x", "alice": "$2b$10$y"}');
  const cyclic: Record<string, unknown> = { name: 'c' };
  cyclic.self = cyclic;
  const out = redactConfig({
    admin: { auth: { users } },
    when: new Date(0),
    fn: () => 1,
    big: 10n,
    nan: NaN,
    list: [1, undefined, 'x'],
    cyclic,
  }) as any;
  assert.equal(Object.getPrototypeOf(out.admin.auth.users), Object.prototype);
  assert.deepEqual(Object.keys(out.admin.auth.users), ['__proto__', 'alice']);
  assert.equal(Object.getOwnPropertyDescriptor(out.admin.auth.users, '__proto__')?.value, REDACTED);
  assert.equal(out.when, '1970-01-01T00:00:00.000Z');
  assert.equal(out.fn, undefined);
  assert.equal(out.big, '10');
  assert.equal(out.nan, null);
  assert.deepEqual(out.list, [1, null, 'x']);
  assert.equal(out.cyclic.self, '[circular]');
  assert.doesNotThrow(() => JSON.stringify(out));
  assert.equal(redactConfig('plain'), 'plain');
  assert.equal(redactConfig(null), null);
});
