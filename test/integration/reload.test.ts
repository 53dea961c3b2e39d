// Hot reload: atomic swap, in-flight requests finish on the old snapshot, unchanged
// upstreams keep their connections, a bad file is rejected whole, and a load of
// thousands of requests per second sees no failure while the file changes 20 times.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, renameSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { Pool } from 'undici';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startGateway, configWith } from '../helpers/gateway.js';
import { send } from '../helpers/http-client.js';
import { startLoomProcess, writeTempConfig } from '../helpers/gateway-process.js';
import { withTestAdmin } from '../helpers/test-admin.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigReloader } from '../../src/runtime/config-reloader.js';

function load(yaml: string) {
  const r = loadConfigText(withTestAdmin(yaml), 'test.yaml', {});
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function twoRoutes(up: TestUpstream, extra = ''): string {
  return configWith(`
routes:
  - { id: stable, path: /stable/*, upstream: u }
${extra}
upstreams:
  - name: u
    endpoints: ["${up.address}"]
`);
}

describe('hot reload (in process)', () => {
  test('routes appear and disappear; an unchanged upstream keeps its connection', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(twoRoutes(up));
    try {
      assert.equal((await send(g.port, '/stable/a', { agent: undefined })).status, 200);
      assert.equal((await send(g.port, '/new/a')).status, 404);
      await g.gateway.reload(load(twoRoutes(up, '  - { id: new, path: /new/*, upstream: u }')));
      assert.equal((await send(g.port, '/new/a')).status, 200);
      await g.gateway.reload(load(twoRoutes(up)));
      assert.equal((await send(g.port, '/new/a')).status, 404);
      assert.equal((await send(g.port, '/stable/b')).status, 200);
      assert.equal(up.connectionsAccepted, 1, 'the pool survived both reloads');
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('an unchanged upstream keeps its health and circuit-breaker state across a reload', async () => {
    const sick = await startUpstream('sick', (req, res) => {
      res.writeHead(req.url === '/health' ? 500 : 502);
      res.end();
    });
    const config = (extraRoute: string) =>
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
${extraRoute}
upstreams:
  - name: u
    endpoints: ["${sick.address}"]
    health_check: { path: /health, interval: 100ms, unhealthy_threshold: 2 }
  - name: cb
    endpoints: ["${sick.address}"]
    circuit_breaker: { failure_threshold: 2, timeout: 1h }
`);
    const g = await startGateway(config('  - { id: b, path: /cb/*, upstream: cb }'));
    try {
      await g.waitForLog((l) => l.msg === 'upstream endpoint unhealthy');
      for (let i = 0; i < 2; i++) assert.equal((await send(g.port, '/cb/x')).status, 502);
      assert.equal((await send(g.port, '/cb/x')).json().error.code, 'LOOM_ERR_CIRCUIT_OPEN');
      await g.gateway.reload(load(config('  - { id: b, path: /cb/*, upstream: cb }\n  - { id: extra, path: /extra/*, upstream: u }')));
      // A fresh checker would need two failed probes (100 ms apart) to take the endpoint out
      // again, and the breaker's open time is 1h: both states came through the reload.
      assert.equal((await send(g.port, '/x')).json().error.code, 'LOOM_ERR_NO_ENDPOINT');
      assert.equal((await send(g.port, '/cb/x')).json().error.code, 'LOOM_ERR_CIRCUIT_OPEN');
    } finally {
      await g.stop();
      await sick.close();
    }
  });

  test('reordering endpoints or changing a weight keeps a dead endpoint out of rotation', async () => {
    const ok = await startUpstream('ok', (_req, res) => res.end('ok'));
    const dead = await startUpstream('dead', (req, res) => {
      res.writeHead(req.url === '/health' ? 500 : 200);
      res.end('dead');
    });
    const config = (order: TestUpstream[], weightOfOk: number) =>
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: [${order.map((u) => `"${u.address}"`).join(', ')}]
    load_balancer: weighted
    weights: { "${ok.address}": ${weightOfOk} }
    health_check: { path: /health, interval: 1h, unhealthy_threshold: 1 }
`);
    const g = await startGateway(config([ok, dead], 1));
    try {
      await g.waitForLog((l) => l.msg === 'upstream endpoint unhealthy');
      for (const next of [config([dead, ok], 1), config([dead, ok], 3)]) {
        await g.gateway.reload(load(next));
        for (let i = 0; i < 4; i++) assert.equal((await send(g.port, '/x')).body, 'ok');
      }
      assert.equal(g.gateway.upstreamStatus('u')?.endpoints.find((e) => e.address === dead.address)?.healthy, false);
    } finally {
      await g.stop();
      await Promise.all([ok.close(), dead.close()]);
    }
  });

  test('an in-flight request finishes on the old snapshot while new requests use the new one', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const oldUp = await startUpstream('old', (req, res) => {
      if (req.url === '/slow') void gate.then(() => res.end('old-slow'));
      else res.end('old');
    });
    const newUp = await startUpstream('new', (_req, res) => res.end('new'));
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${oldUp.address}"]
`));
    try {
      const slow = send(g.port, '/slow');
      while (oldUp.seen.length < 1) await new Promise((r) => setImmediate(r));
      await g.gateway.reload(
        load(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${newUp.address}"]
`)),
      );
      assert.equal((await send(g.port, '/fast')).body, 'new');
      release();
      const finished = await slow;
      assert.equal(finished.status, 200);
      assert.equal(finished.body, 'old-slow');
    } finally {
      release();
      await g.stop();
      await Promise.all([oldUp.close(), newUp.close()]);
    }
  });

  test('a bad file is rejected whole with file:line:column and the old config keeps serving', async () => {
    const up = await startUpstream('u');
    const file = writeTempConfig(twoRoutes(up));
    const g = await startGateway(twoRoutes(up));
    const reloader = new ConfigReloader(g.gateway, file, g.gateway.logger, {});
    try {
      writeFileSync(file, withTestAdmin(twoRoutes(up, '  - { id: broken, path: /b/*, upstream: nowhere }\n  - { id: stable, path: /dup/*, upstream: u }')));
      const outcome = await reloader.reload('api');
      assert.equal(outcome.ok, false);
      assert.ok('errors' in outcome && outcome.errors.length === 2, JSON.stringify(outcome));
      const logged = g.logs.filter((l) => l.level === 50).map((l) => String(l.msg));
      assert.ok(logged.some((m) => /loom\.yaml:\d+:\d+: routes\[1\]\.upstream/.test(m)), logged.join('\n'));
      assert.equal((await send(g.port, '/stable/x')).status, 200);
      assert.equal((await send(g.port, '/b/x')).status, 404);
      assert.equal(reloader.stats.failures, 1);
      // A good file afterwards is taken.
      writeFileSync(file, withTestAdmin(twoRoutes(up, '  - { id: fixed, path: /b/*, upstream: u }')));
      assert.deepEqual(await reloader.reload('api'), { ok: true });
      assert.equal((await send(g.port, '/b/x')).status, 200);
    } finally {
      reloader.close();
      await g.stop();
      await up.close();
    }
  });

  test('listeners are opened and closed by reload; a taken address rejects the reload and keeps everything', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(twoRoutes(up));
    try {
      const withSecond = `listeners:
  - { name: http, address: "127.0.0.1:0" }
  - { name: second, address: "127.0.0.1:0" }
  - { name: third, address: "127.0.0.2:0" }
routes:
  - { id: stable, path: /stable/*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${up.address}"] }
`;
      await g.gateway.reload(load(withSecond));
      const ports = g.gateway.addresses();
      assert.ok(ports.third, JSON.stringify(ports));
      assert.equal((await send(ports.third.port, '/stable/x').catch(() => null)) === null, true, 'third listens on 127.0.0.2 only');
      // A listener on the upstream's own port cannot bind: the reload fails, nothing changes.
      const clash = withSecond.replace('127.0.0.2:0', up.address);
      await assert.rejects(g.gateway.reload(load(clash)), /EADDRINUSE/);
      assert.deepEqual(Object.keys(g.gateway.addresses()).sort(), ['http', 'second', 'third']);
      await g.gateway.reload(load(twoRoutes(up)));
      assert.deepEqual(Object.keys(g.gateway.addresses()), ['http']);
      assert.equal((await send(g.port, '/stable/x')).status, 200);
    } finally {
      await g.stop();
      await up.close();
    }
  });
});

describe('hot reload (the loom process under load)', () => {
  test('20 file changes under a load of thousands of requests per second: not one request fails', async () => {
    const ups = await Promise.all(['a', 'b', 'c'].map((n) => startUpstream(n, (_req, res) => res.end(n))));
    const version = (n: number): string => {
      const endpoints = n % 2 === 0 ? [ups[0], ups[1]] : [ups[1], ups[2]];
      return `listeners:
  - { name: http, address: "127.0.0.1:0" }
routes:
  - { id: stable, path: /stable/*, upstream: u }
  - { id: v${n}, path: /v${n}/*, upstream: u }
upstreams:
  - name: u
    endpoints: [${endpoints.map((e) => `"${e.address}"`).join(', ')}]
`;
    };
    const file = writeTempConfig(version(0));
    const loom = await startLoomProcess(file);
    // Bounded waits: a stuck request fails the test with its error instead of hanging it.
    const pool = new Pool(`http://127.0.0.1:${loom.port}`, { connections: 16, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 });
    let ok = 0;
    const failures: string[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) {
        try {
          const res = await pool.request({ method: 'GET', path: '/stable/x' });
          const body = await res.body.text();
          if (res.statusCode === 200 && ['a', 'b', 'c'].includes(body)) ok++;
          else failures.push(`${res.statusCode} ${body.slice(0, 100)}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    try {
      const started = performance.now();
      const workers = Array.from({ length: 16 }, () => worker());
      for (let n = 1; n <= 20; n++) {
        const before = loom.lines.length;
        // Write then rename, as editors do, so the watcher never reads a half-written file.
        const tmp = join(dirname(file), `.loom.yaml.${n}`);
        writeFileSync(tmp, withTestAdmin(version(n)));
        renameSync(tmp, file);
        await loom.waitForLine((l) => l.msg === 'config reloaded' || String(l.msg).startsWith('config rejected'), before);
        const fresh = await pool.request({ method: 'GET', path: `/v${n}/x` });
        await fresh.body.text();
        assert.equal(fresh.statusCode, 200, `route v${n} is live after reload ${n}`);
        const gone = await pool.request({ method: 'GET', path: `/v${n - 1}/x` });
        await gone.body.text();
        assert.equal(gone.statusCode, 404, `route v${n - 1} is gone after reload ${n}`);
      }
      running = false;
      await Promise.all(workers);
      const seconds = (performance.now() - started) / 1000;
      const reloads = loom.lines.filter((l) => l.msg === 'config reloaded').length;
      process.stdout.write(`# reload under load: ${ok} requests in ${seconds.toFixed(2)} s (${Math.round(ok / seconds)} req/s), ${reloads} reloads, ${failures.length} failures\n`);
      assert.equal(reloads, 20);
      assert.deepEqual(failures.slice(0, 5), []);
      assert.ok(ok > 500, `enough load ran (${ok}; about 240 req/s when three copies of this file share a loaded machine)`);
    } finally {
      running = false;
      await pool.close();
      loom.child.kill('SIGTERM');
      await loom.exited;
      await Promise.all(ups.map((u) => u.close()));
    }
  });

  test('SIGHUP reloads; a streaming download that spans a reload completes', async () => {
    const SIZE = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let streamStarted!: () => void;
    const started = new Promise<void>((r) => (streamStarted = r));
    const up = await startUpstream('big', (req, res) => {
      if (req.url !== '/big') return void res.end('small');
      res.writeHead(200, { 'content-length': String(SIZE) });
      let sent = 0;
      streamStarted();
      const pump = () => {
        while (sent < SIZE) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const other = await startUpstream('other', (_req, res) => res.end('other'));
    const file = writeTempConfig(twoRoutes(up).replace('/stable/*', '/*'));
    const loom = await startLoomProcess(file);
    try {
      // A slow reader: the download is still streaming when the config changes.
      const done = new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: loom.port, path: '/big', agent: false }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => {
            n += c.length;
            res.pause();
            setImmediate(() => res.resume());
          });
          res.on('end', () => resolve(n));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      await started;
      const before = loom.lines.length;
      // Swap the upstream's endpoint: the old pool is released only after the stream ends.
      writeFileSync(file, withTestAdmin(twoRoutes(other).replace('/stable/*', '/*')));
      loom.child.kill('SIGHUP');
      await loom.waitForLine((l) => l.msg === 'config reloaded', before);
      assert.equal((await send(loom.port, '/x')).body, 'other');
      assert.equal(await done, SIZE);
    } finally {
      loom.child.kill('SIGTERM');
      await loom.exited;
      await Promise.all([up.close(), other.close()]);
    }
  });
});
