// Health checks, outlier ejection, circuit breaker and retries against real upstream
// servers that are stopped, restarted, slowed down and made to fail.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startUpstream, closedPort, type TestUpstream } from '../helpers/upstream.js';
import { startGateway, configWith } from '../helpers/gateway.js';
import { send } from '../helpers/http-client.js';

/** A switchable upstream: `mode` decides how it answers. */
async function flaky(name: string): Promise<TestUpstream & { mode: 'ok' | 'fail' | 'unhealthy' }> {
  const state = { mode: 'ok' as 'ok' | 'fail' | 'unhealthy' };
  const up = await startUpstream(name, (req, res) => {
    if (req.url === '/health') {
      res.writeHead(state.mode === 'unhealthy' ? 500 : 200);
      return void res.end();
    }
    if (state.mode === 'fail') {
      res.writeHead(502);
      return void res.end('bad');
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res.end(`${name}:${Buffer.concat(chunks).toString()}`));
  });
  return Object.defineProperty(up, 'mode', {
    get: () => state.mode,
    set: (m: 'ok' | 'fail' | 'unhealthy') => {
      state.mode = m;
    },
  }) as TestUpstream & { mode: 'ok' | 'fail' | 'unhealthy' };
}

function upstreamBlock(endpoints: string[], extra: string): string {
  return `  - name: u
    endpoints: [${endpoints.map((e) => `"${e}"`).join(', ')}]
${extra}`;
}

async function who(port: number, path = '/x', options: Parameters<typeof send>[2] = {}): Promise<string> {
  const res = await send(port, path, options);
  return `${res.status} ${res.body.split(':')[0]}`;
}

describe('active health checks', () => {
  test('an unhealthy endpoint leaves rotation after unhealthy_threshold and returns after healthy_threshold', async () => {
    const a = await flaky('a');
    const b = await flaky('b');
    b.mode = 'unhealthy';
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([a.address, b.address], '    health_check: { path: /health, interval: 100ms, timeout: 100ms, unhealthy_threshold: 2, healthy_threshold: 2 }')}
`),
    );
    try {
      await g.waitForLog((l) => l.msg === 'upstream endpoint unhealthy' && l.endpoint === b.address);
      for (let i = 0; i < 6; i++) assert.equal(await who(g.port), '200 a');
      const probes = b.seen.filter((s) => s.url === '/health');
      assert.ok(probes.length >= 2);
      assert.equal(probes[0].headers['user-agent'], 'loom-health-check');
      const mark = g.logs.length;
      b.mode = 'ok';
      await g.waitForLog((l) => l.msg === 'upstream endpoint healthy again' && l.endpoint === b.address, mark);
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await who(g.port));
      assert.deepEqual([...seen].sort(), ['200 a', '200 b']);
    } finally {
      await g.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('every endpoint unhealthy → 503 JSON at once, not after a timeout', async () => {
    const a = await flaky('a');
    a.mode = 'unhealthy';
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([a.address], '    health_check: { path: /health, interval: 50ms, unhealthy_threshold: 1 }\n    timeout: { read: 30s, connect: 30s }')}
`),
    );
    try {
      await g.waitForLog((l) => l.msg === 'upstream endpoint unhealthy');
      const started = performance.now();
      const res = await send(g.port, '/x');
      assert.equal(res.status, 503);
      assert.equal(res.json().error.code, 'LOOM_ERR_NO_ENDPOINT');
      assert.ok(performance.now() - started < 5_000, 'answered without waiting for a timeout');
      assert.equal(a.seen.filter((s) => s.url === '/x').length, 0);
    } finally {
      await g.stop();
      await a.close();
    }
  });
});

describe('outlier detection (passive health)', () => {
  test('consecutive 5xx eject an endpoint; max_ejection_percent keeps the last one in', async () => {
    const a = await flaky('a');
    const b = await flaky('b');
    b.mode = 'fail';
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([a.address, b.address], '    outlier_detection: { consecutive_failures: 3, base_ejection_time: 30s, max_ejection_percent: 50 }')}
`),
    );
    try {
      // Round robin alternates until b has failed 3 times in a row, then b is ejected.
      for (let i = 0; i < 6; i++) await send(g.port, '/x');
      await g.waitForLog((l) => l.msg === 'upstream endpoint ejected (outlier)' && l.endpoint === b.address);
      for (let i = 0; i < 6; i++) assert.equal(await who(g.port), '200 a');
      // Now a fails too: ejecting it would exceed 50% of 2 endpoints, so it stays.
      a.mode = 'fail';
      for (let i = 0; i < 5; i++) assert.equal((await send(g.port, '/x')).status, 502);
      await g.waitForLog((l) => l.msg === 'outlier not ejected: max_ejection_percent reached');
    } finally {
      await g.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('circuit breaker', () => {
  test('closed → open (503 at once) → half-open after timeout → closed after success_threshold', async () => {
    const port = await closedPort();
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([`127.0.0.1:${port}`], '    circuit_breaker: { failure_threshold: 3, success_threshold: 2, timeout: 300ms }')}
`),
    );
    let server: Server | undefined;
    try {
      for (let i = 0; i < 3; i++) assert.equal((await send(g.port, '/x')).json().error.code, 'LOOM_ERR_UPSTREAM_CONNECT');
      await g.waitForLog((l) => l.msg === 'circuit breaker open');
      const open = await send(g.port, '/x');
      assert.equal(open.status, 503);
      assert.equal(open.json().error.code, 'LOOM_ERR_CIRCUIT_OPEN');
      // The backend comes back on the same port.
      server = createServer((_req, res) => res.end('back'));
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
      const mark = g.logs.length;
      assert.equal((await send(g.port, '/x')).status, 503, 'still open before the timeout, backend up or not');
      // Let the configured open time (300 ms) pass: the behaviour under test is time-based.
      await new Promise((r) => setTimeout(r, 300));
      const answer = await send(g.port, '/x');
      assert.equal(answer.body, 'back', 'the first request after the timeout is a trial');
      await g.waitForLog((l) => l.msg === 'circuit breaker half_open', mark);
      assert.equal((await send(g.port, '/x')).body, 'back');
      await g.waitForLog((l) => l.msg === 'circuit breaker closed', mark);
    } finally {
      await g.stop();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    }
  });

  test('failure_on decides what counts: with only connect_error, 502 answers keep it closed', async () => {
    const a = await flaky('a');
    a.mode = 'fail';
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([a.address], '    circuit_breaker: { failure_threshold: 2, failure_on: [connect_error] }')}
`),
    );
    try {
      for (let i = 0; i < 6; i++) assert.equal((await send(g.port, '/x')).status, 502);
      assert.ok(!g.logs.some((l) => l.msg === 'circuit breaker open'));
    } finally {
      await g.stop();
      await a.close();
    }
  });
});

describe('retries', () => {
  test('a refused connection is retried on another endpoint, for any method, with the body intact', async () => {
    const dead = await closedPort();
    const a = await flaky('a');
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([`127.0.0.1:${dead}`, a.address], '    retry: { max_retries: 2, backoff_base: 10ms }')}
`),
    );
    try {
      for (let i = 0; i < 4; i++) {
        const res = await send(g.port, '/x', { method: 'POST', body: `payload-${i}` });
        assert.equal(res.status, 200);
        assert.equal(res.body, `a:payload-${i}`);
      }
      const tries = g.logs.filter((l) => l.msg === 'request').map((l) => l.tries);
      assert.ok(tries.includes(2), `some request needed a retry: ${tries.join(',')}`);
    } finally {
      await g.stop();
      await a.close();
    }
  });

  test('retryable statuses: GET retried on a fresh endpoint; POST only when the route opts in', async () => {
    const bad = await flaky('bad');
    bad.mode = 'fail';
    const good = await flaky('good');
    const g = await startGateway(
      configWith(`
routes:
  - { id: safe, path: /safe/*, upstream: u }
  - { id: optin, path: /optin/*, upstream: u, retry_non_idempotent: true }
upstreams:
${upstreamBlock([bad.address, good.address], '    retry: { max_retries: 1, backoff_base: 10ms, retryable_codes: [502] }')}
`),
    );
    try {
      for (let i = 0; i < 4; i++) assert.equal(await who(g.port, '/safe/x'), '200 good');
      const posts = [];
      for (let i = 0; i < 4; i++) posts.push((await send(g.port, '/safe/x', { method: 'POST', body: 'p' })).status);
      assert.ok(posts.includes(502), 'a POST that reached the failing endpoint is not retried');
      for (let i = 0; i < 4; i++) {
        const res = await send(g.port, '/optin/x', { method: 'POST', body: `body-${i}` });
        assert.equal(res.body, `good:body-${i}`, 'opted-in POST retried with its body');
      }
    } finally {
      await g.stop();
      await Promise.all([bad.close(), good.close()]);
    }
  });

  test('after the last try the client gets the last upstream status; backoff and max_retries hold', async () => {
    const a = await flaky('a');
    const b = await flaky('b');
    a.mode = 'fail';
    b.mode = 'fail';
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([a.address, b.address], '    retry: { max_retries: 3, backoff_base: 20ms, backoff_max: 40ms }')}
`),
    );
    try {
      const started = performance.now();
      const res = await send(g.port, '/x');
      assert.equal(res.status, 502);
      assert.equal(res.body, 'bad', "the upstream's own last answer, not a gateway error");
      assert.ok(performance.now() - started >= 3 * 10, 'three backoffs of at least half their nominal delay');
      assert.equal(a.seen.length + b.seen.length, 4, '1 try + 3 retries');
      await new Promise((r) => setImmediate(r));
      assert.equal(g.logs.filter((l) => l.msg === 'request').at(-1)?.tries, 4);
    } finally {
      await g.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('bodies over buffer_limit are streamed and not retried; an exhausted budget stops retries', async () => {
    const dead = await closedPort();
    const a = await flaky('a');
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([`127.0.0.1:${dead}`, a.address], '    load_balancer: round_robin\n    retry: { max_retries: 2, backoff_base: 10ms, buffer_limit: 1KB }')}
  - name: nobudget
    endpoints: ["127.0.0.1:${dead}", "${a.address}"]
    retry: { max_retries: 2, backoff_base: 10ms, budget_percent: 0, min_retry_concurrency: 0 }
`).replace('  - { id: r, path: /*, upstream: u }', '  - { id: r, path: /*, upstream: u }\n  - { id: nb, path: /nb/*, upstream: nobudget }'),
    );
    try {
      const big = 'x'.repeat(4096);
      const statuses = new Set<number>();
      for (let i = 0; i < 4; i++) {
        const res = await send(g.port, '/x', { method: 'PUT', body: big });
        statuses.add(res.status);
        if (res.status === 200) assert.equal(res.body, `a:${big}`);
      }
      assert.deepEqual([...statuses].sort(), [200, 502], 'the big body is never retried, so the dead endpoint shows');
      const nb = new Set<number>();
      for (let i = 0; i < 4; i++) nb.add((await send(g.port, '/nb/x')).status);
      assert.ok(nb.has(502), 'with a zero budget a refused connection is not retried');
    } finally {
      await g.stop();
      await a.close();
    }
  });
});

describe('resilience bookkeeping', () => {
  test('a client that leaves while a retryable response is dropped returns its retry-budget slot', async () => {
    const up = await startUpstream('u', (_req, res) => {
      res.writeHead(503, { 'content-length': '1000000' });
      res.write('x'); // and never finishes
    });
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([up.address], '    retry: { max_retries: 2, retryable_codes: [503] }')}
`),
    );
    try {
      for (let i = 0; i < 5; i++) {
        const { request } = await import('node:http');
        const req = request({ host: '127.0.0.1', port: g.port, path: '/x', agent: false });
        req.on('error', () => undefined);
        req.end();
        const before = up.seen.length;
        while (up.seen.length === before) await new Promise((r) => setImmediate(r));
        req.destroy();
        await g.waitForLog((l) => l.msg === 'request' && l.status === 499, g.logs.length);
      }
      const status = g.gateway.upstreamStatus('u')!;
      assert.deepEqual(status.retry_budget, { active_requests: 0, active_retries: 0, max_retries_now: 3 });
      assert.equal(status.endpoints[0].inflight, 0);
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('when the failure opens the circuit, the client gets the upstream answer, not a refused retry', async () => {
    const bad = await flaky('bad');
    bad.mode = 'fail';
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
${upstreamBlock([bad.address], '    circuit_breaker: { failure_threshold: 1, timeout: 1h }\n    retry: { max_retries: 2, backoff_base: 10ms }')}
`),
    );
    try {
      const res = await send(g.port, '/x');
      assert.equal(res.status, 502);
      assert.equal(res.body, 'bad');
      assert.equal((await send(g.port, '/x')).json().error.code, 'LOOM_ERR_CIRCUIT_OPEN');
    } finally {
      await g.stop();
      await bad.close();
    }
  });
});
