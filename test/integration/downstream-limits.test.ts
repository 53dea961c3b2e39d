// Limits on the client side of the gateway and on waiting for upstream connections:
// a stalled upload cannot hold a connection forever, a request queued behind busy
// connections gets 503 in bounded time, oversized headers get 431.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { startUpstream } from '../helpers/upstream.js';
import { startGateway, configWith } from '../helpers/gateway.js';
import { send } from '../helpers/http-client.js';

const SHORT_LIMITS = { keepAliveTimeoutMs: 5_000, headersTimeoutMs: 5_000, inactivityTimeoutMs: 300 };

describe('downstream limits', () => {
  test('a client that stalls its upload is disconnected after the inactivity timeout, and the upstream request is aborted', async () => {
    let upstreamSawClose!: () => void;
    const upstreamClosed = new Promise<void>((r) => (upstreamSawClose = r));
    const up = await startUpstream('u', (req, res) => {
      req.resume();
      res.on('close', () => upstreamSawClose());
    });
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
`), { listenerLimits: SHORT_LIMITS });
    try {
      const socket = connect(g.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1');
      socket.resume();
      await once(socket, 'close'); // the gateway closed it: nothing moved for 300 ms
      await upstreamClosed;
      await new Promise((r) => setImmediate(r));
      const line = g.logs.find((l) => l.msg === 'request' && l.path === '/upload');
      assert.equal(line?.status, 499);
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('with every connection busy (max_open), a waiting request gets 503 LOOM_ERR_POOL_TIMEOUT after timeout.read', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const up = await startUpstream('u', (req, res) => {
      // /hold answers at once and holds its body, so its connection stays busy without
      // tripping timeout.read itself (which would free the connection at the same moment).
      if (req.url === '/hold') {
        res.writeHead(200);
        res.write('he');
        void gate.then(() => res.end('ld'));
      } else res.end('quick');
    });
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
    pool: { max_open: 1, max_idle: 1 }
    timeout: { read: 200ms }
`));
    try {
      const held = send(g.port, '/hold');
      while (up.seen.length < 1) await new Promise((r) => setImmediate(r));
      const queued = await send(g.port, '/quick');
      assert.equal(queued.status, 503);
      assert.equal(queued.json().error.code, 'LOOM_ERR_POOL_TIMEOUT');
      release();
      assert.equal((await held).body, 'held');
      const after = await send(g.port, '/quick');
      assert.equal(after.status, 200);
      assert.equal(after.body, 'quick');
    } finally {
      release();
      await g.stop();
      await up.close();
    }
  });

  test('request headers over the limit → 431 JSON', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
`));
    try {
      const socket = connect(g.port, '127.0.0.1');
      await once(socket, 'connect');
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      await once(socket, 'close');
      assert.match(text, /^HTTP\/1\.1 431 /);
      assert.match(text, /LOOM_ERR_HEADERS_TOO_LARGE/);
      assert.equal(up.seen.length, 0);
    } finally {
      await g.stop();
      await up.close();
    }
  });
});
