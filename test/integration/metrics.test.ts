// Prometheus metrics, scraped from the admin listener of a running gateway: each metric
// moves when it should, labels come from route ids and upstream names (never raw paths),
// and metrics can be turned off and moved to another path by a reload.
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { startGateway, configWith, type RunningGateway } from '../helpers/gateway.js';
import { startUpstream, closedPort, startHeldUpstream, type TestUpstream, type HeldUpstream } from '../helpers/upstream.js';
import { send } from '../helpers/http-client.js';
import { parseExposition, valueOf, sumOf, samples, type Sample } from '../helpers/prometheus-text.js';
import { writeTempConfig } from '../helpers/gateway-process.js';
import { ConfigReloader } from '../../src/runtime/config-reloader.js';

async function scrape(g: RunningGateway, path = '/metrics'): Promise<Sample[]> {
  const res = await send(g.gateway.adminAddress()!.port, path);
  assert.equal(res.status, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
}

describe('metrics', () => {
  let ok: TestUpstream;
  let held: HeldUpstream;
  let dead: number;
  let g: RunningGateway;
  let yaml: string;

  before(async () => {
    ok = await startUpstream('ok');
    held = await startHeldUpstream('held');
    dead = await closedPort();
    yaml = configWith(`
routes:
  - { id: api, path: /api/*, upstream: ok }
  - { id: dead, path: /dead/*, upstream: dead }
  - { id: flaky, path: /flaky/*, upstream: flaky }
  - { id: held, path: /held/*, upstream: held }
  - { id: checked, path: /checked/*, upstream: checked }
upstreams:
  - name: ok
    endpoints: ["${ok.address}"]
  - name: dead
    endpoints: ["127.0.0.1:${dead}"]
    circuit_breaker: { failure_threshold: 2, timeout: 1h }
  - name: flaky
    endpoints: ["127.0.0.1:${dead}", "${ok.address}"]
    retry: { max_retries: 1, backoff_base: 1ms, backoff_max: 1ms }
  - name: held
    endpoints: ["${held.upstream.address}"]
  - name: checked
    endpoints: ["127.0.0.1:${dead}"]
    health_check: { path: /health, interval: 50ms, timeout: 50ms, unhealthy_threshold: 1 }
`);
    g = await startGateway(yaml);
  });

  after(async () => {
    held.release();
    await g.stop();
    await Promise.all([ok.close(), held.upstream.close()]);
  });

  test('requests by route id, method and status; duration histograms; no raw paths in labels', async () => {
    const before = await scrape(g);
    assert.equal(valueOf(before, 'loom_info'), 1);
    assert.equal(valueOf(before, 'loom_requests_total', { route: 'api' }), undefined);
    for (let i = 0; i < 20; i++) assert.equal((await send(g.port, `/api/item-${i}?q=${i}`)).status, 200);
    assert.equal((await send(g.port, '/api/x', { method: 'POST', body: 'b' })).status, 200);
    assert.equal((await send(g.port, '/nowhere')).status, 404);
    const m = await scrape(g);
    assert.equal(valueOf(m, 'loom_requests_total', { route: 'api', method: 'GET', status: '200' }), 20);
    assert.equal(valueOf(m, 'loom_requests_total', { route: 'api', method: 'POST', status: '200' }), 1);
    assert.equal(valueOf(m, 'loom_requests_total', { route: '', method: 'GET', status: '404' }), 1);
    assert.equal(valueOf(m, 'loom_request_duration_seconds_count', { route: 'api', method: 'GET' }), 20);
    assert.equal(valueOf(m, 'loom_request_duration_seconds_bucket', { route: 'api', method: 'GET', le: '+Inf' }), 20);
    const sum = valueOf(m, 'loom_request_duration_seconds_sum', { route: 'api', method: 'GET' })!;
    assert.ok(sum > 0 && sum < 60, `sum ${sum}`);
    // Buckets are cumulative.
    const buckets = samples(m, 'loom_request_duration_seconds_bucket', { route: 'api', method: 'GET' }).map((s) => s.value);
    assert.deepEqual([...buckets].sort((a, b) => a - b), buckets);
    assert.equal(valueOf(m, 'loom_upstream_requests_total', { upstream: 'ok', endpoint: ok.address, status: 'success' }), 21);
    assert.equal(valueOf(m, 'loom_upstream_duration_seconds_count', { upstream: 'ok', endpoint: ok.address }), 21);
    // One series per route, whatever the paths.
    assert.equal(samples(m, 'loom_requests_total', { route: 'api' }).length, 2);
    for (const s of m) for (const v of Object.values(s.labels)) assert.ok(!v.includes('item-'), `raw path in ${s.name}`);
  });

  test('upstream failures, error types, the circuit breaker state and retries', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await send(g.port, '/dead/x')).status, 502);
    assert.equal((await send(g.port, '/dead/x')).status, 503); // breaker open
    // Round robin over [dead, ok] with one retry: a request that starts on the dead
    // endpoint is retried on the live one (the retry's pick also advances the rotation).
    for (let i = 0; i < 2; i++) assert.equal((await send(g.port, '/flaky/x')).status, 200);
    const m = await scrape(g);
    const deadEndpoint = `127.0.0.1:${dead}`;
    assert.equal(valueOf(m, 'loom_upstream_requests_total', { upstream: 'dead', endpoint: deadEndpoint, status: 'failure' }), 2);
    assert.equal(valueOf(m, 'loom_upstream_requests_total', { upstream: 'dead', endpoint: deadEndpoint, status: 'success' }), 0);
    assert.equal(valueOf(m, 'loom_upstream_errors_total', { upstream: 'dead', error_type: 'upstream_connect' }), 2);
    assert.equal(valueOf(m, 'loom_circuit_breaker_state', { upstream: 'dead' }), 1);
    assert.equal(valueOf(m, 'loom_circuit_breaker_state', { upstream: 'ok' }), undefined, 'no breaker, no series');
    assert.equal(valueOf(m, 'loom_requests_total', { route: 'dead', status: '502' }), 2);
    assert.equal(valueOf(m, 'loom_requests_total', { route: 'dead', status: '503' }), 1);
    const retries = valueOf(m, 'loom_retries_total', { upstream: 'flaky' })!;
    assert.ok(retries >= 1);
    assert.equal(valueOf(m, 'loom_upstream_requests_total', { upstream: 'flaky', endpoint: deadEndpoint, status: 'failure' }), retries);
    assert.equal(valueOf(m, 'loom_upstream_requests_total', { upstream: 'flaky', endpoint: ok.address, status: 'success' }), 2);
  });

  test('health: loom_upstream_health and loom_health_check_status follow the checker', async () => {
    await g.waitForLog((l) => l.msg === 'upstream endpoint unhealthy' && l.upstream === 'checked');
    const m = await scrape(g);
    const endpoint = `127.0.0.1:${dead}`;
    assert.equal(valueOf(m, 'loom_health_check_status', { upstream: 'checked', endpoint }), 0);
    assert.equal(valueOf(m, 'loom_upstream_health', { upstream: 'checked', endpoint }), 0);
    assert.equal(valueOf(m, 'loom_upstream_health', { upstream: 'ok', endpoint: ok.address }), 1);
    assert.equal(valueOf(m, 'loom_health_check_status', { upstream: 'ok' }), undefined, 'no health_check, no series');
  });

  test('in-flight requests, active upstream requests and client connections', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const pending = send(g.port, '/held/x', { agent });
      await held.arrivals(1);
      const during = await scrape(g);
      assert.equal(valueOf(during, 'loom_requests_in_flight'), 1);
      assert.equal(valueOf(during, 'loom_upstream_active_requests', { upstream: 'held' }), 1);
      assert.ok(valueOf(during, 'loom_active_connections', { listener: 'http' })! >= 1);
      held.release();
      assert.equal((await pending).status, 200);
      const afterwards = await scrape(g);
      assert.equal(valueOf(afterwards, 'loom_requests_in_flight'), 0);
      assert.equal(valueOf(afterwards, 'loom_upstream_active_requests', { upstream: 'held' }), 0);
    } finally {
      agent.destroy();
    }
  });

  test('process metrics are exported', async () => {
    const m = await scrape(g);
    assert.ok(valueOf(m, 'process_cpu_user_seconds_total')! > 0);
    assert.ok(valueOf(m, 'nodejs_heap_size_used_bytes')! > 0);
  });
});

describe('metrics across reloads', () => {
  test('reload counters and time; metrics off stops recording and removes the endpoint; a custom path', async () => {
    const up = await startUpstream('u');
    const base = configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
admin:
  address: "127.0.0.1:0"
`);
    const file = writeTempConfig(base);
    const g = await startGateway(base);
    const reloader = new ConfigReloader(g.gateway, file, pino({ level: 'silent' }));
    try {
      const admin = g.gateway.adminAddress()!.port;
      let m = await scrape(g);
      assert.equal(valueOf(m, 'loom_config_reloads_total', { result: 'success' }), 0);
      assert.equal(valueOf(m, 'loom_config_last_reload_successful'), 1);
      const started = valueOf(m, 'loom_config_last_reload_success_timestamp_seconds')!;
      assert.ok(Math.abs(started - Date.now() / 1000) < 600, 'a Unix time in seconds');

      writeFileSync(file, base.replace('upstream: u }', 'upstream: nowhere }'));
      assert.equal((await reloader.reload('api')).ok, false);
      m = await scrape(g);
      assert.equal(valueOf(m, 'loom_config_reloads_total', { result: 'failure' }), 1);
      assert.equal(valueOf(m, 'loom_config_last_reload_successful'), 0);

      assert.equal((await send(g.port, '/a')).status, 200);
      writeFileSync(file, `${base}metrics:\n  enabled: false\n`);
      assert.deepEqual(await reloader.reload('api'), { ok: true });
      assert.equal((await send(admin, '/metrics')).status, 404);
      assert.equal((await send(g.port, '/a')).status, 200); // not recorded
      writeFileSync(file, `${base}metrics:\n  prometheus: { path: /prom }\n`);
      assert.deepEqual(await reloader.reload('api'), { ok: true });
      assert.equal((await send(admin, '/metrics')).status, 404);
      m = await scrape(g, '/prom');
      assert.equal(valueOf(m, 'loom_requests_total', { route: 'r', status: '200' }), 1, 'the request made while metrics were off is not counted');
      assert.equal(valueOf(m, 'loom_config_reloads_total', { result: 'success' }), 2);
      assert.equal(valueOf(m, 'loom_config_last_reload_successful'), 1);
      assert.ok(sumOf(m, 'loom_config_last_reload_success_timestamp_seconds') >= started);
    } finally {
      reloader.close();
      await g.stop();
      await up.close();
    }
  });
});
