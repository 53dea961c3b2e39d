// Graceful shutdown of the loom process: SIGTERM/SIGINT stop accepting, idle keep-alive
// connections close at once, slow in-flight requests complete (up to shutdown_timeout),
// then exit 0; a second signal exits at once.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { startUpstream } from '../helpers/upstream.js';
import { startLoomProcess, writeTempConfig } from '../helpers/gateway-process.js';
import { send } from '../helpers/http-client.js';

function configFor(address: string, extra = ''): string {
  return `listeners:
  - { name: http, address: "127.0.0.1:0" }
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - { name: u, endpoints: ["${address}"] }
${extra}`;
}

function get(port: number, path: string, agent: Agent | false = false): Promise<{ res: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ res, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('graceful shutdown', () => {
  test('SIGTERM: idle keep-alive closes at once, slow requests complete with Connection: close, new connections are refused, exit 0', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    let allHeld!: () => void;
    const heldAll = new Promise<void>((r) => (allHeld = r));
    const up = await startUpstream('u', (req, res) => {
      if (req.url === '/slow') {
        if (++held === 3) allHeld();
        void gate.then(() => res.end('slow done'));
      } else res.end('quick');
    });
    const loom = await startLoomProcess(writeTempConfig(configFor(up.address)));
    const idleAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // An idle keep-alive connection.
      assert.equal((await get(loom.port, '/quick', idleAgent)).body, 'quick');
      const [idleSocket] = Object.values(idleAgent.freeSockets).flat();
      assert.ok(idleSocket, 'a free keep-alive socket');
      const idleClosed = once(idleSocket!, 'close');
      // Three slow requests in flight.
      const slow = [get(loom.port, '/slow'), get(loom.port, '/slow'), get(loom.port, '/slow')];
      await heldAll;
      const before = loom.lines.length;
      loom.child.kill('SIGTERM');
      await loom.waitForLine((l) => l.msg === 'shutting down', before);
      await idleClosed; // closed while the slow requests are still held
      await assert.rejects(
        new Promise((resolve, reject) => {
          const s = connect(loom.port, '127.0.0.1');
          s.on('connect', () => resolve(s));
          s.on('error', reject);
        }),
        /ECONNREFUSED/,
      );
      release();
      for (const r of await Promise.all(slow)) {
        assert.equal(r.res.statusCode, 200);
        assert.equal(r.body, 'slow done');
        assert.equal(r.res.headers.connection, 'close');
      }
      assert.equal(await loom.exited, 0);
    } finally {
      release();
      idleAgent.destroy();
      loom.child.kill('SIGKILL');
      await up.close();
    }
  });

  test('shutdown_timeout bounds the wait: a request that never ends is cut and the process still exits 0', async () => {
    let arrived!: () => void;
    const reached = new Promise<void>((r) => (arrived = r));
    const up = await startUpstream('u', () => arrived());
    const loom = await startLoomProcess(writeTempConfig(configFor(up.address, 'shutdown_timeout: 300ms\n')));
    try {
      const hanging = get(loom.port, '/forever').then(
        () => 'answered',
        () => 'cut',
      );
      await reached;
      loom.child.kill('SIGTERM');
      assert.equal(await loom.exited, 0);
      assert.equal(await hanging, 'cut');
      assert.ok(loom.lines.some((l) => String(l.msg).startsWith('shutdown timeout')));
    } finally {
      loom.child.kill('SIGKILL');
      await up.close();
    }
  });

  test('a second signal exits at once with 1', async () => {
    let arrived!: () => void;
    const reached = new Promise<void>((r) => (arrived = r));
    const up = await startUpstream('u', () => arrived());
    const loom = await startLoomProcess(writeTempConfig(configFor(up.address)));
    try {
      const hanging = get(loom.port, '/forever').catch(() => 'cut');
      await reached;
      const before = loom.lines.length;
      loom.child.kill('SIGTERM');
      await loom.waitForLine((l) => l.msg === 'shutting down', before);
      loom.child.kill('SIGINT');
      assert.equal(await loom.exited, 1);
      await hanging;
      // And nothing answers any more.
      await assert.rejects(send(loom.port, '/'));
    } finally {
      loom.child.kill('SIGKILL');
      await up.close();
    }
  });
});
