// Connection pooling per endpoint: keep-alive reuse, pool.max_open, pool.max_idle,
// pool.idle_timeout — observed from the upstream's side of the connections.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { startUpstream, startHeldUpstream } from '../helpers/upstream.js';
import { startGateway, configWith } from '../helpers/gateway.js';
import { send } from '../helpers/http-client.js';

function config(address: string, pool: string): string {
  return configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${address}"]
    pool:
${pool}
`);
}

describe('connection pool', () => {
  test('sequential requests reuse one keep-alive connection', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(config(up.address, '      max_idle: 10'));
    try {
      for (let i = 0; i < 20; i++) assert.equal((await send(g.port, '/')).status, 200);
      assert.equal(up.connectionsAccepted, 1);
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('max_open caps concurrent connections; extra requests wait instead of failing', async () => {
    const { upstream: up, release, arrivals } = await startHeldUpstream('u');
    const g = await startGateway(config(up.address, '      max_open: 2\n      max_idle: 2'));
    try {
      const all = Array.from({ length: 6 }, () => send(g.port, '/'));
      await arrivals(2);
      assert.equal(up.connectionsAccepted, 2);
      release();
      const results = await Promise.all(all);
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
      assert.equal(up.connectionsAccepted, 2, 'never more than max_open connections');
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('max_idle: after a burst only max_idle connections stay open', async () => {
    const { upstream: up, release, arrivals } = await startHeldUpstream('u');
    const g = await startGateway(config(up.address, '      max_open: 5\n      max_idle: 1'));
    try {
      const all = Array.from({ length: 5 }, () => send(g.port, '/'));
      await arrivals(5);
      assert.equal(up.openSockets.size, 5);
      release();
      await Promise.all(all);
      // The gateway closes the surplus connections as soon as they become idle.
      const sockets = [...up.openSockets];
      const closes = sockets.map((s) => (s.destroyed ? Promise.resolve() : once(s, 'close').then(() => undefined)));
      let closed = 0;
      await new Promise<void>((resolve) => {
        for (const c of closes) void c.then(() => ++closed === 4 && resolve());
      });
      assert.equal(up.openSockets.size, 1);
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('idle_timeout closes an idle upstream connection', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(config(up.address, '      idle_timeout: 200ms'));
    try {
      await send(g.port, '/');
      assert.equal(up.openSockets.size, 1);
      const [socket] = [...up.openSockets];
      const started = Date.now();
      await once(socket, 'close');
      assert.ok(Date.now() - started < 5_000);
    } finally {
      await g.stop();
      await up.close();
    }
  });
});
