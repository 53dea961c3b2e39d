// The `loom` binary: flags as the FAQ writes them, exit codes, signals, debug logging,
// and the quick-start config.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { LOOM_BIN, startLoomProcess, writeTempConfig } from '../helpers/gateway-process.js';
import { startUpstream } from '../helpers/upstream.js';
import { send } from '../helpers/http-client.js';
import { fromRoot } from '../helpers/paths.js';
import { startDemoUpstream } from '../../examples/demo-upstream.js';
import type { AddressInfo } from 'node:net';

function loom(...args: string[]) {
  return spawnSync(process.execPath, [LOOM_BIN, ...args], { encoding: 'utf8' });
}

describe('loom CLI', () => {
  test('loom version and --help exit 0', () => {
    const v = loom('version');
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^loom \d+\.\d+\.\d+/);
    const h = loom('--help');
    assert.equal(h.status, 0);
    assert.match(h.stdout, /-config FILE/);
    assert.match(h.stdout, /loom validate FILE/);
  });

  test('usage errors exit 2', () => {
    assert.equal(loom().status, 2);
    assert.equal(loom('-config').status, 2);
    assert.equal(loom('-nope', 'x').status, 2);
    assert.equal(loom('-config', 'x.yaml', '-log-level', 'loud').status, 2);
  });

  test('loom validate: 0 for a good file, 2 with file:line:column for a bad one', () => {
    const good = loom('validate', fromRoot('examples', 'loom.yaml'));
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /ok/);
    const badFile = writeTempConfig(`listeners:
  - name: http
    address: ":8080"
routes:
  - id: r
    path: /x
    upstream: missing
upstreams:
  - name: u
    endpoints: ["http://api:8080"]
    load_balancer: round-robin
`);
    const bad = loom('validate', badFile);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /loom\.yaml:7:15: .*routes\[0\]\.upstream/);
    assert.match(bad.stderr, /loom\.yaml:10:17: .*upstreams\[0\]\.endpoints\[0\]/);
    assert.match(bad.stderr, /loom\.yaml:11:20: .*upstreams\[0\]\.load_balancer.*round_robin/);
  });

  test('loom -config FILE -log-level debug: serves, logs why routes matched, exits 0 on SIGTERM', async () => {
    const up = await startUpstream('u');
    const file = writeTempConfig(`listeners:
  - name: http
    address: "127.0.0.1:0"
    protocol: http
routes:
  - id: api
    path: /api/*
    upstream: u
upstreams:
  - name: u
    endpoints: ["${up.address}"]
`);
    const p = await startLoomProcess(file, ['-log-level', 'debug']);
    try {
      assert.equal((await send(p.port, '/api/x')).status, 200);
      assert.equal((await send(p.port, '/other')).status, 404);
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0);
      const debug = p.lines.filter((l) => l.level === 20).map((l) => String(l.msg));
      assert.ok(debug.some((m) => m.includes('api')), `a debug line names the matched route: ${debug.join(' | ')}`);
      assert.ok(debug.some((m) => /\/other/.test(m)), `a debug line says why /other matched nothing: ${debug.join(' | ')}`);
      assert.ok(p.lines.some((l) => l.msg === 'request' && l.route === 'api' && l.status === 200));
    } finally {
      p.child.kill('SIGKILL');
      await up.close();
    }
  });

  test('--config=FILE form works and an invalid config exits 2 without serving', async () => {
    const file = writeTempConfig('listeners: []\nroutes: []\nupstreams: []\nbogus: 1\n');
    const r = loom(`--config=${file}`);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bogus/);
  });

  test('the quick-start config answers /api/… with round robin over the two demo upstreams', async () => {
    const demos = await Promise.all([startDemoUpstream('demo-a', 0), startDemoUpstream('demo-b', 0)]);
    const [pa, pb] = demos.map((d) => (d.address() as AddressInfo).port);
    const p = await startLoomProcess(fromRoot('examples', 'loom.yaml'), [], {
      LOOM_ADDRESS: '127.0.0.1:0',
      LOOM_ADMIN_ADDRESS: '127.0.0.1:0',
      DEMO_A: `127.0.0.1:${pa}`,
      DEMO_B: `127.0.0.1:${pb}`,
    });
    try {
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await send(p.port, '/api/hello');
        assert.equal(res.status, 200);
        assert.equal(res.json().path, '/hello');
        seen.push(res.json().upstream);
      }
      assert.notEqual(seen[0], seen[1]);
      assert.equal(seen[0], seen[2]);
      assert.equal(seen[1], seen[3]);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
      for (const d of demos) d.close();
    }
  });
});
