// The admin API end to end: a real gateway (in process or the `loom` binary) with its admin
// listener on 127.0.0.1:0, real upstreams, and plain HTTP clients. Health and readiness
// (while stopping, required upstreams), upstream state, endpoint drain (across a reload
// too), routes/plugins/config with secrets redacted, 404/405, authentication, POST /reload,
// and the separation from the data plane.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import bcrypt from 'bcryptjs';
import { startUpstream, startHeldUpstream, closedPort } from '../helpers/upstream.js';
import { startGateway, configWith, type RunningGateway } from '../helpers/gateway.js';
import { send, type TestRequestOptions, type TestResponse } from '../helpers/http-client.js';
import { startLoomProcess, writeTempConfig } from '../helpers/gateway-process.js';
import { withTestAdmin } from '../helpers/test-admin.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigReloader } from '../../src/runtime/config-reloader.js';

function load(yaml: string) {
  const r = loadConfigText(withTestAdmin(yaml), 'test.yaml', {});
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function adminPort(g: RunningGateway): number {
  const a = g.gateway.adminAddress();
  assert.ok(a !== null, 'the admin API is listening');
  assert.equal(a.host, '127.0.0.1');
  return a.port;
}

function admin(g: RunningGateway, path: string, options: TestRequestOptions = {}): Promise<TestResponse> {
  return send(adminPort(g), path, options);
}

/** Every value of a response header, in order (node joins repeated ones in `headers`). */
function headerValues(res: TestResponse, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i].toLowerCase() === name) out.push(res.rawHeaders[i + 1]);
  return out;
}

/** Which upstream answered `n` proxied requests (the echo upstream names itself). */
async function whoAnswers(port: number, n: number, path = '/x'): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await send(port, path);
    assert.equal(res.status, 200, res.body);
    out.push(res.json<{ upstream: string }>().upstream);
  }
  return out;
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

describe('admin API: health, readiness, 404 and 405', () => {
  test('/health and /ready answer 200 once started; HEAD, 405 with Allow, unknown paths 404 JSON', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /api/*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
`));
    try {
      const health = await admin(g, '/health');
      assert.equal(health.status, 200);
      assert.match(String(health.headers['content-type']), /^application\/json/);
      assert.deepEqual(health.json(), { status: 'healthy' });

      const ready = await admin(g, '/ready');
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json(), { status: 'ready' });

      const head = await admin(g, '/health', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');

      const del = await admin(g, '/health', { method: 'DELETE' });
      assert.equal(del.status, 405);
      assert.equal(del.headers.allow, 'GET, HEAD');
      assert.equal(del.json().error.code, 'LOOM_ERR_METHOD_NOT_ALLOWED');

      const post = await admin(g, '/upstreams', { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET, HEAD');

      for (const path of ['/nope', '/health/extra', '/upstreams/u/endpoints', '/']) {
        const res = await admin(g, path);
        assert.equal(res.status, 404, path);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        const body = res.json();
        assert.equal(body.error.code, 'LOOM_ERR_NOT_FOUND', path);
        assert.equal(body.error.status, 404);
        assert.equal(typeof body.error.message, 'string');
      }
      // A query string does not change the endpoint.
      assert.deepEqual((await admin(g, '/health?verbose=1')).json(), { status: 'healthy' });
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('/ready is 503 not_ready while the gateway stops with a request in flight; /health stays 200', async () => {
    const held = await startHeldUpstream('held');
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${held.upstream.address}"] }
`));
    const port = adminPort(g);
    let stopped: Promise<void> | undefined;
    try {
      assert.equal((await send(port, '/ready')).status, 200);
      const inflight = send(g.port, '/slow');
      await held.arrivals(1);
      stopped = g.stop(); // waits for the held request
      const ready = await send(port, '/ready');
      assert.equal(ready.status, 503);
      assert.deepEqual(ready.json(), { status: 'not_ready', reasons: ['the gateway is shutting down'] });
      assert.equal((await send(port, '/health')).status, 200, 'the process is still alive');
      held.release();
      const res = await inflight;
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
      await stopped;
      assert.equal(g.gateway.adminAddress(), null, 'the admin API closes once the stop is done');
    } finally {
      held.release();
      await (stopped ?? g.stop());
      await held.upstream.close();
    }
  });

  test('required_upstreams: /ready is 503 naming an upstream without an available endpoint', async () => {
    const up = await startUpstream('api');
    const dead = await closedPort();
    const yaml = (required: string) =>
      configWith(`
routes:
  - { id: r, path: /*, upstream: api }
upstreams:
  - { name: api, endpoints: ["${up.address}"] }
  - name: dead
    endpoints: ["127.0.0.1:${dead}"]
    health_check: { path: /health, interval: 1h, timeout: 1s, unhealthy_threshold: 1 }
admin:
  address: "127.0.0.1:0"
  readiness:
    required_upstreams: [${required}]
`);
    const g = await startGateway(yaml('api'));
    try {
      assert.deepEqual((await admin(g, '/ready')).json(), { status: 'ready' });
      const drainPath = `/upstreams/api/endpoints/${up.address}/drain`;
      assert.equal((await admin(g, drainPath, { method: 'POST' })).status, 200);
      const notReady = await admin(g, '/ready');
      assert.equal(notReady.status, 503);
      assert.deepEqual(notReady.json(), { status: 'not_ready', reasons: ['upstream "api" has no available endpoint'] });
      assert.equal((await admin(g, drainPath, { method: 'DELETE' })).status, 200);
      assert.deepEqual((await admin(g, '/ready')).json(), { status: 'ready' });

      // An upstream whose only endpoint failed its health check.
      await g.waitForLog((l) => l.msg === 'upstream endpoint unhealthy' && l.upstream === 'dead');
      await g.gateway.reload(load(yaml('api, dead')));
      const deadNotReady = await admin(g, '/ready');
      assert.equal(deadNotReady.status, 503);
      assert.deepEqual(deadNotReady.json(), { status: 'not_ready', reasons: ['upstream "dead" has no available endpoint'] });
      // The data plane still serves: readiness is advice to a load balancer, not a switch.
      assert.equal((await send(g.port, '/x')).status, 200);
    } finally {
      await g.stop();
      await up.close();
    }
  });
});

describe('admin API: upstreams and drain', () => {
  test('GET /upstreams and /upstreams/{name}: seed shape plus live state; unknown name 404', async () => {
    const a = await startUpstream('a');
    const held = await startHeldUpstream('held');
    const dead = await closedPort();
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
  - { id: h, path: /held/*, upstream: h }
upstreams:
  - { name: u, endpoints: ["${a.address}"] }
  - name: cb
    endpoints: ["${a.address}"]
    circuit_breaker: { failure_threshold: 5, timeout: 1h }
  - name: h
    endpoints: ["${held.upstream.address}"]
  - name: dead
    endpoints: ["127.0.0.1:${dead}"]
    health_check: { path: /health, interval: 1h, timeout: 1s, unhealthy_threshold: 1 }
`));
    let inflight: Promise<TestResponse> | undefined;
    try {
      assert.equal((await send(g.port, '/x')).status, 200);
      await g.waitForLog((l) => l.msg === 'upstream endpoint unhealthy' && l.upstream === 'dead');

      const list = await admin(g, '/upstreams');
      assert.equal(list.status, 200);
      const all = list.json<any[]>();
      assert.ok(Array.isArray(all));
      assert.deepEqual(all.map((u) => u.name), ['u', 'cb', 'h', 'dead'], 'config order');

      const u = (await admin(g, '/upstreams/u')).json();
      assert.deepEqual(u, all[0], 'the list and the single view agree');
      assert.equal(u.name, 'u');
      assert.equal(u.circuit_breaker, 'disabled');
      assert.equal(u.endpoints.length, 1);
      const e = u.endpoints[0];
      assert.equal(e.address, a.address);
      assert.equal(e.healthy, true);
      assert.equal(e.available, true);
      assert.equal(e.drained, false);
      assert.equal(e.ejected, false);
      assert.equal(e.last_check, null, 'no health check configured');
      assert.equal(e.active_requests, 0);
      assert.equal(typeof e.open_connections, 'number');
      // The request above left its keep-alive connection in the pool.
      assert.equal(e.open_connections, 1);
      assert.equal(u.active_connections, 1);
      assert.equal(u.active_requests, 0);

      const cb = (await admin(g, '/upstreams/cb')).json();
      assert.equal(cb.circuit_breaker, 'closed');
      assert.equal(cb.active_connections, 0, 'no request was sent to cb');

      const d = (await admin(g, '/upstreams/dead')).json();
      assert.equal(d.endpoints[0].healthy, false);
      assert.equal(d.endpoints[0].available, false);
      assert.equal(d.endpoints[0].last_check.ok, false);
      assert.equal(typeof d.endpoints[0].last_check.error, 'string');
      assert.ok(!Number.isNaN(Date.parse(d.endpoints[0].last_check.at)), d.endpoints[0].last_check.at);
      assert.equal(d.health_check, true);

      // A request held by the upstream shows as active on the upstream and its endpoint.
      assert.equal((await admin(g, '/upstreams/h')).json().active_requests, 0);
      inflight = send(g.port, '/held/x');
      await held.arrivals(1);
      const h = (await admin(g, '/upstreams/h')).json();
      assert.equal(h.active_requests, 1);
      assert.equal(h.endpoints[0].active_requests, 1);
      assert.equal(h.active_connections, 1);
      held.release();
      assert.equal((await inflight).status, 200);

      const unknown = await admin(g, '/upstreams/nope');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json().error.code, 'LOOM_ERR_NOT_FOUND');
      assert.match(unknown.json().error.message, /nope/);
    } finally {
      held.release();
      await inflight?.catch(() => undefined);
      await g.stop();
      await Promise.all([a.close(), held.upstream.close()]);
    }
  });

  test('drain takes an endpoint out of rotation, DELETE puts it back; 404s and 405', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const yaml = (extra = '', order = [a, b]) =>
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
${extra}
upstreams:
  - { name: u, endpoints: [${order.map((e) => `"${e.address}"`).join(', ')}] }
`);
    const g = await startGateway(yaml());
    const drainPath = `/upstreams/u/endpoints/${a.address}/drain`;
    try {
      assert.deepEqual(new Set(await whoAnswers(g.port, 4)), new Set(['a', 'b']));

      const drained = await admin(g, drainPath, { method: 'POST' });
      assert.equal(drained.status, 200);
      const view = drained.json();
      assert.equal(view.upstream, 'u');
      assert.equal(view.endpoint.address, a.address);
      assert.equal(view.endpoint.drained, true);
      assert.equal(view.endpoint.available, false);
      assert.equal(view.endpoint.healthy, true, 'drained is not unhealthy');
      assert.equal(g.logs.filter((l) => l.msg === 'endpoint drained by the admin API' && l.endpoint === a.address).length, 1);
      // Draining twice changes nothing and still answers 200.
      assert.equal((await admin(g, drainPath, { method: 'POST' })).status, 200);
      assert.equal(g.logs.filter((l) => l.msg === 'endpoint drained by the admin API').length, 1);

      const seenByA = a.seen.length;
      assert.deepEqual(await whoAnswers(g.port, 6), ['b', 'b', 'b', 'b', 'b', 'b']);
      assert.equal(a.seen.length, seenByA, 'the drained endpoint got nothing');

      // A reload that keeps the endpoint keeps it drained.
      await g.gateway.reload(load(yaml('  - { id: extra, path: /extra/*, upstream: u, priority: 1 }')));
      assert.deepEqual(await whoAnswers(g.port, 4), ['b', 'b', 'b', 'b']);
      assert.deepEqual(await whoAnswers(g.port, 2, '/extra/x'), ['b', 'b'], 'the new route is live and sees the drain too');
      const afterReload = (await admin(g, '/upstreams/u')).json();
      assert.equal(afterReload.endpoints.find((e: { address: string }) => e.address === a.address).drained, true);
      assert.equal(a.seen.length, seenByA);
      // Reordering the endpoints builds new endpoint objects: they inherit the drain.
      await g.gateway.reload(load(yaml('  - { id: extra, path: /extra/*, upstream: u, priority: 1 }', [b, a])));
      assert.deepEqual(await whoAnswers(g.port, 4), ['b', 'b', 'b', 'b']);
      const reordered = (await admin(g, '/upstreams/u')).json();
      assert.deepEqual(reordered.endpoints.map((e: { address: string; drained: boolean }) => [e.address, e.drained]), [[b.address, false], [a.address, true]]);
      assert.equal(a.seen.length, seenByA);

      // Percent-encoded ':' names the same endpoint.
      const undrained = await admin(g, drainPath.replace(`${a.address}`, a.address.replace(':', '%3A')), { method: 'DELETE' });
      assert.equal(undrained.status, 200);
      assert.equal(undrained.json().endpoint.drained, false);
      assert.equal(undrained.json().endpoint.available, true);
      assert.deepEqual(new Set(await whoAnswers(g.port, 4)), new Set(['a', 'b']));

      const noUpstream = await admin(g, `/upstreams/nope/endpoints/${a.address}/drain`, { method: 'POST' });
      assert.equal(noUpstream.status, 404);
      assert.equal(noUpstream.json().error.code, 'LOOM_ERR_NOT_FOUND');
      const noEndpoint = await admin(g, '/upstreams/u/endpoints/127.0.0.1:1/drain', { method: 'POST' });
      assert.equal(noEndpoint.status, 404);
      assert.equal(noEndpoint.json().error.code, 'LOOM_ERR_NOT_FOUND');
      assert.match(noEndpoint.json().error.message, /127\.0\.0\.1:1/);

      const get = await admin(g, drainPath);
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST, DELETE');
      assert.equal(get.json().error.code, 'LOOM_ERR_METHOD_NOT_ALLOWED');
      assert.equal((await admin(g, drainPath, { method: 'PUT' })).headers.allow, 'POST, DELETE');
      // None of the refused calls drained anything.
      assert.deepEqual(new Set(await whoAnswers(g.port, 4)), new Set(['a', 'b']));
    } finally {
      await g.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('admin API: routes, plugins, config', () => {
  test('GET /routes in config order, GET /plugins [], GET /config with secrets redacted', async () => {
    const up = await startUpstream('u');
    const collector = await closedPort();
    const TOKEN = 'admin-token-0123456789';
    const HASH = bcrypt.hashSync('alice-pw', 4);
    const TENANT = 'tenant-secret-value';
    const g = await startGateway(configWith(`
routes:
  - { id: low, path: /api/*, upstream: u }
  - { id: high, path: /api/special, upstream: v, priority: 10 }
  - { id: get-only, path: /other/*, upstream: u, methods: [GET] }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
  - { name: v, endpoints: ["${up.address}"] }
admin:
  address: "127.0.0.1:0"
  auth:
    users:
      alice: "${HASH}"
    token: "${TOKEN}"
tracing:
  enabled: true
  provider: otlp
  otlp:
    endpoint: "http://127.0.0.1:${collector}/v1/traces"
    protocol: http/protobuf
    headers:
      x-tenant: "${TENANT}"
`));
    const auth = { authorization: `Bearer ${TOKEN}` };
    try {
      const routes = await admin(g, '/routes', { headers: auth });
      assert.equal(routes.status, 200);
      const list = routes.json<any[]>();
      assert.deepEqual(
        list.map((r) => ({ id: r.id, path: r.path, upstream: r.upstream })),
        [
          { id: 'low', path: '/api/*', upstream: 'u' },
          { id: 'high', path: '/api/special', upstream: 'v' },
          { id: 'get-only', path: '/other/*', upstream: 'u' },
        ],
        'config order, not priority order',
      );
      assert.equal(list[1].priority, 10);
      assert.deepEqual(list[2].methods, ['GET']);

      const plugins = await admin(g, '/plugins', { headers: auth });
      assert.equal(plugins.status, 200);
      assert.deepEqual(plugins.json(), []);

      const res = await admin(g, '/config', { headers: auth });
      assert.equal(res.status, 200);
      const config = res.json();
      assert.deepEqual(config.admin.auth.users, { alice: '[redacted]' }, 'user names kept, hashes redacted');
      assert.equal(config.admin.auth.token, '[redacted]');
      assert.deepEqual(config.tracing.headers, { 'x-tenant': '[redacted]' });
      for (const secret of [TOKEN, HASH, TENANT]) assert.ok(!res.body.includes(secret), `${secret} does not appear in GET /config`);
      // The rest is the effective config, defaults filled in.
      assert.equal(config.tracing.endpoint, `http://127.0.0.1:${collector}/v1/traces`);
      assert.equal(config.admin.auth.realm, 'Gateway Admin');
      assert.equal(config.admin.address, '127.0.0.1:0');
      assert.deepEqual(config.routes.map((r: { id: string }) => r.id), ['low', 'high', 'get-only']);
      assert.equal(config.upstreams[0].load_balancer, 'round_robin');
      assert.equal(config.listeners[0].name, 'http');
    } finally {
      await g.stop();
      await up.close();
    }
  });
});

describe('admin API: authentication', () => {
  test('Basic (bcrypt) and Bearer; 401 with challenges; /health and /ready stay open; /metrics needs credentials', async () => {
    const up = await startUpstream('u');
    const TOKEN = 'admin-token-abcdef';
    const HASH = bcrypt.hashSync('s3cret', 4);
    const base = configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
`);
    const withAuth = (token: string) => `${base}admin:
  address: "127.0.0.1:0"
  auth:
    realm: Loom Test
    users:
      alice: "${HASH}"
    token: "${token}"
`;
    const g = await startGateway(withAuth(TOKEN));
    try {
      const none = await admin(g, '/upstreams');
      assert.equal(none.status, 401);
      assert.equal(none.json().error.code, 'LOOM_ERR_UNAUTHORIZED');
      assert.deepEqual(headerValues(none, 'www-authenticate'), ['Basic realm="Loom Test"', 'Bearer realm="Loom Test"']);
      assert.ok(!none.body.includes(up.address), 'nothing about the upstreams leaks');
      assert.ok(g.logs.some((l) => l.msg === 'admin request without valid credentials' && l.path === '/upstreams'));

      const wrong = await admin(g, '/upstreams', { headers: { authorization: basic('alice', 'wrong') } });
      assert.equal(wrong.status, 401);
      assert.equal((await admin(g, '/upstreams', { headers: { authorization: basic('mallory', 's3cret') } })).status, 401);
      assert.equal((await admin(g, '/upstreams', { headers: { authorization: 'Bearer not-the-token' } })).status, 401);

      const right = await admin(g, '/upstreams', { headers: { authorization: basic('alice', 's3cret') } });
      assert.equal(right.status, 200);
      assert.equal(right.json()[0].name, 'u');
      const bearer = await admin(g, '/upstreams', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(bearer.status, 200);
      assert.deepEqual(bearer.json().map((u: { name: string }) => u.name), ['u']);

      // Open endpoints.
      assert.equal((await admin(g, '/health')).status, 200);
      assert.equal((await admin(g, '/ready')).status, 200);

      // Everything else is closed, drains and reloads included.
      for (const [method, path] of [
        ['GET', '/metrics'],
        ['GET', '/routes'],
        ['GET', '/config'],
        ['GET', '/plugins'],
        ['POST', '/reload'],
        ['POST', `/upstreams/u/endpoints/${up.address}/drain`],
      ]) {
        assert.equal((await admin(g, path, { method })).status, 401, `${method} ${path}`);
      }
      assert.deepEqual(new Set(await whoAnswers(g.port, 2)), new Set(['u']), 'the refused drain did not drain');

      const metrics = await admin(g, '/metrics', { headers: { authorization: basic('alice', 's3cret') } });
      assert.equal(metrics.status, 200);
      assert.match(String(metrics.headers['content-type']), /^text\/plain/);
      assert.match(metrics.body, /^# HELP loom_/m);

      // A reload takes the new credentials at once: the old token stops working.
      await g.gateway.reload(load(withAuth('rotated-token-42')));
      assert.equal((await admin(g, '/routes', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 401);
      assert.equal((await admin(g, '/routes', { headers: { authorization: 'Bearer rotated-token-42' } })).status, 200);
      assert.equal((await admin(g, '/routes', { headers: { authorization: basic('alice', 's3cret') } })).status, 200);
      // And a reload without auth opens the API.
      await g.gateway.reload(load(base));
      assert.equal((await admin(g, '/routes')).status, 200);
    } finally {
      await g.stop();
      await up.close();
    }
  });
});

describe('admin API: POST /reload', () => {
  test('409 without a reloader; 400 with positioned errors for a bad file (old config serves); 200 for a good one', async () => {
    const up = await startUpstream('u');
    const yaml = (extra = '') =>
      configWith(`
routes:
  - { id: stable, path: /stable/*, upstream: u }
${extra}
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
`);
    const file = writeTempConfig(yaml());
    const g = await startGateway(yaml());
    const reloader = new ConfigReloader(g.gateway, file, g.gateway.logger, {});
    try {
      const noReloader = await admin(g, '/reload', { method: 'POST' });
      assert.equal(noReloader.status, 409);
      assert.equal(noReloader.json().error.code, 'LOOM_ERR_NO_CONFIG_FILE');

      g.gateway.setReloader(() => reloader.reload('api'));
      assert.equal((await admin(g, '/reload')).headers.allow, 'POST', 'GET /reload is 405');

      const badText = withTestAdmin(yaml('  - { id: broken, path: /new/*, upstream: nowhere }'));
      writeFileSync(file, badText);
      const bad = await admin(g, '/reload', { method: 'POST' });
      assert.equal(bad.status, 400);
      const rejected = bad.json();
      assert.equal(rejected.status, 'rejected');
      assert.equal(rejected.errors.length, 1, bad.body);
      const [err] = rejected.errors;
      assert.equal(err.path, 'routes[1].upstream');
      assert.equal(err.line, badText.split('\n').findIndex((l) => l.includes('nowhere')) + 1, 'the line of the bad route in the file');
      assert.ok(err.column > 0);
      assert.equal(typeof err.message, 'string');
      assert.match(err.message, /nowhere/);
      assert.equal(err.file, file);
      assert.equal((await send(g.port, '/stable/x')).status, 200, 'the old config keeps serving');
      assert.equal((await send(g.port, '/new/x')).status, 404);
      assert.equal(g.gateway.reloadStats.failures, 1);

      writeFileSync(file, withTestAdmin(yaml('  - { id: fresh, path: /new/*, upstream: u }')));
      const good = await admin(g, '/reload', { method: 'POST' });
      assert.equal(good.status, 200);
      assert.deepEqual(good.json(), { status: 'reloaded' });
      assert.equal((await send(g.port, '/new/x')).status, 200, 'the new route answers');
      assert.deepEqual((await admin(g, '/routes')).json().map((r: { id: string }) => r.id), ['stable', 'fresh']);

      // A valid file that cannot be activated (a listener on a taken port): 500, nothing changes.
      writeFileSync(
        file,
        withTestAdmin(
          yaml('  - { id: never, path: /never/*, upstream: u }').replace(
            'listeners:\n',
            `listeners:\n  - { name: clash, address: "${up.address}" }\n`,
          ),
        ),
      );
      const clash = await admin(g, '/reload', { method: 'POST' });
      assert.equal(clash.status, 500);
      assert.equal(clash.json().status, 'rejected');
      assert.match(clash.json().error, /EADDRINUSE/);
      assert.equal((await send(g.port, '/new/x')).status, 200);
      assert.equal((await send(g.port, '/never/x')).status, 404);
    } finally {
      reloader.close();
      await g.stop();
      await up.close();
    }
  });
  test('a POST /reload that moves the admin listener still gets its answer; the new address serves', async () => {
    const up = await startUpstream('u');
    const yaml = configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
`);
    const file = writeTempConfig(yaml);
    const g = await startGateway(yaml);
    const reloader = new ConfigReloader(g.gateway, file, g.gateway.logger, {});
    g.gateway.setReloader(() => reloader.reload('api'));
    const agent = new Agent({ keepAlive: true });
    try {
      const oldPort = adminPort(g);
      const newPort = await closedPort();
      writeFileSync(file, `${yaml}admin:\n  address: "127.0.0.1:${newPort}"\n`);
      // The reload closes the listener this request came in on.
      const res = await send(oldPort, '/reload', { method: 'POST', agent });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json(), { status: 'reloaded' });
      assert.equal(res.headers.connection, 'close', 'a keep-alive client is told the connection ends');
      assert.equal(adminPort(g), newPort);
      assert.deepEqual((await send(newPort, '/health')).json(), { status: 'healthy' });
      await assert.rejects(send(oldPort, '/health'), { code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
      reloader.close();
      await g.stop();
      await up.close();
    }
  });
});

describe('admin API: its own listener', () => {
  test('the data-plane port does not serve the admin API', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /api/*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
`));
    try {
      assert.notEqual(adminPort(g), g.port);
      for (const path of ['/health', '/ready', '/upstreams', '/metrics']) {
        const res = await send(g.port, path);
        assert.equal(res.status, 404, path);
        assert.equal(res.json().error.code, 'LOOM_ERR_ROUTE_NOT_FOUND', path);
      }
      assert.equal((await admin(g, '/health')).status, 200);
      assert.equal(up.seen.length, 0);
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('validation rejects an admin address equal to a listener address (code duplicate)', () => {
    const r = loadConfigText(
      `listeners:
  - { name: http, address: "127.0.0.1:18080" }
admin:
  address: "127.0.0.1:18080"
`,
      'dup.yaml',
      {},
    );
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    const dup = r.errors.filter((e) => e.code === 'duplicate');
    assert.equal(dup.length, 1, JSON.stringify(r.errors));
    assert.equal(dup[0].path, 'admin.address');
    assert.equal(dup[0].line, 4);
    // Another port is fine.
    assert.ok(loadConfigText('listeners:\n  - { name: http, address: "127.0.0.1:18080" }\nadmin:\n  address: "127.0.0.1:18081"\n', 'ok.yaml', {}).ok);
  });

  test('admin.enabled: false opens no admin listener; the data plane still serves', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
admin:
  enabled: false
`));
    try {
      assert.equal(g.gateway.adminAddress(), null);
      assert.equal((await send(g.port, '/x')).status, 200);
      const started = g.logs.find((l) => l.msg === 'loom started');
      assert.equal(started?.admin, null);
    } finally {
      await g.stop();
      await up.close();
    }
  });
});

describe('admin API: the loom binary', () => {
  test('"loom started" reports the admin port; /health, /ready and POST /reload answer; SIGTERM exits 0', async () => {
    const up = await startUpstream('u');
    const file = writeTempConfig(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
`));
    const loom = await startLoomProcess(file);
    let code: number | null | undefined;
    try {
      const started = await loom.waitForLine((l) => l.msg === 'loom started');
      const adminAddr = started.admin as { host: string; port: number };
      assert.equal(adminAddr.host, '127.0.0.1');
      assert.ok(Number.isInteger(adminAddr.port) && adminAddr.port > 0, JSON.stringify(started.admin));
      assert.notEqual(adminAddr.port, loom.port);
      const health = await send(adminAddr.port, '/health');
      assert.equal(health.status, 200);
      assert.deepEqual(health.json(), { status: 'healthy' });
      assert.deepEqual((await send(adminAddr.port, '/ready')).json(), { status: 'ready' });
      // The binary wires POST /reload to its config file.
      const reload = await send(adminAddr.port, '/reload', { method: 'POST' });
      assert.equal(reload.status, 200, reload.body);
      assert.deepEqual(reload.json(), { status: 'reloaded' });
      assert.equal((await send(loom.port, '/x')).status, 200);
      loom.child.kill('SIGTERM');
      code = await loom.exited;
      assert.ok(loom.lines.some((l) => l.msg === 'stopped'));
    } finally {
      if (code === undefined) {
        loom.child.kill('SIGTERM');
        await loom.exited;
      }
      await up.close();
    }
    assert.equal(code, 0, loom.stderr());
  });
});

describe('admin API: exposure warning', () => {
  test('binding the admin API beyond loopback without auth logs a warning, at start and when a reload moves it', async () => {
    const up = await startUpstream('u');
    const body = (address: string) =>
      configWith(`
routes:
  - { id: r, path: /api/*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
admin:
  address: "${address}"
`);
    const WARNING = 'the admin API accepts connections from other hosts without authentication; configure admin.auth or bind it to 127.0.0.1';
    const g = await startGateway(body('127.0.0.1:0'));
    try {
      assert.equal(g.logs.filter((l) => l.msg === WARNING).length, 0, 'loopback: no warning');
      await g.gateway.reload(load(body('0.0.0.0:0')));
      const line = await g.waitForLog((l) => l.msg === WARNING);
      assert.equal(line.level, 40);
      assert.equal(line.admin, '0.0.0.0:0');
    } finally {
      await g.stop();
      await up.close();
    }
  });
});
