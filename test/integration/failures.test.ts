// Upstream failures become 502/504 with a JSON body naming the upstream and a code;
// a client that goes away aborts the upstream request.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { once } from 'node:events';
import { startUpstream, closedPort } from '../helpers/upstream.js';
import { startGateway, configWith } from '../helpers/gateway.js';
import { send } from '../helpers/http-client.js';

function oneRoute(endpoint: string, extra = ''): string {
  return configWith(`
routes:
  - id: r
    path: /*
    upstream: u
upstreams:
  - name: u
    endpoints: ["${endpoint}"]
${extra}`);
}

describe('upstream failures', () => {
  test('connection refused → 502 with code LOOM_ERR_UPSTREAM_CONNECT and the upstream name', async () => {
    const port = await closedPort();
    const g = await startGateway(oneRoute(`127.0.0.1:${port}`));
    try {
      const res = await send(g.port, '/x');
      assert.equal(res.status, 502);
      const body = res.json();
      assert.equal(body.error.code, 'LOOM_ERR_UPSTREAM_CONNECT');
      assert.equal(body.error.upstream, 'u');
      assert.ok(!res.body.includes('    at '), 'no stack trace');
    } finally {
      await g.stop();
    }
  });

  test('no response headers within timeout.read → 504 LOOM_ERR_UPSTREAM_TIMEOUT', async () => {
    const slow = await startUpstream('slow', () => {
      /* never answers */
    });
    const g = await startGateway(oneRoute(slow.address, '    timeout:\n      read: 150ms\n'));
    try {
      const res = await send(g.port, '/x');
      assert.equal(res.status, 504);
      assert.equal(res.json().error.code, 'LOOM_ERR_UPSTREAM_TIMEOUT');
      assert.equal(res.json().error.upstream, 'u');
    } finally {
      await g.stop();
      await slow.close();
    }
  });

  test('route timeout overrides the upstream read timeout', async () => {
    const slow = await startUpstream('slow', () => undefined);
    const g = await startGateway(configWith(`
routes:
  - id: r
    path: /*
    upstream: u
    timeout: 100ms
upstreams:
  - name: u
    endpoints: ["${slow.address}"]
`));
    try {
      const res = await send(g.port, '/x');
      assert.equal(res.status, 504);
    } finally {
      await g.stop();
      await slow.close();
    }
  });

  test('upstream resets before answering → 502 LOOM_ERR_UPSTREAM_RESET', async () => {
    const rude = await startUpstream('rude', (req) => req.socket.destroy());
    const g = await startGateway(oneRoute(rude.address));
    try {
      const res = await send(g.port, '/x');
      assert.equal(res.status, 502);
      assert.equal(res.json().error.code, 'LOOM_ERR_UPSTREAM_RESET');
    } finally {
      await g.stop();
      await rude.close();
    }
  });

  test('upstream dies mid-body → the client connection is cut, not a truncated 200 that looks complete', async () => {
    const half = await startUpstream('half', (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100));
      setImmediate(() => res.socket?.destroy());
    });
    const g = await startGateway(oneRoute(half.address));
    try {
      await assert.rejects(send(g.port, '/x'), (err: NodeJS.ErrnoException) => {
        return ['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE'].includes(err.code ?? '') || /aborted|socket hang up/.test(err.message);
      });
    } finally {
      await g.stop();
      await half.close();
    }
  });

  test('a client that disconnects aborts the upstream request', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    let arrived!: () => void;
    const reached = new Promise<void>((r) => (arrived = r));
    const hanging = await startUpstream('hanging', (req, res) => {
      res.on('close', () => upstreamClosed());
      arrived();
      void req;
    });
    const g = await startGateway(oneRoute(hanging.address));
    try {
      const req = request({ host: '127.0.0.1', port: g.port, path: '/slow', agent: false });
      req.on('error', () => undefined);
      req.end();
      await reached;
      req.destroy();
      await closed; // resolves only if the gateway aborted its upstream request
      await new Promise((r) => setImmediate(r));
      const line = g.logs.find((l) => l.msg === 'request' && l.path === '/slow');
      assert.ok(line, 'access log line written');
      assert.equal(line.status, 499);
      assert.equal(line.error, 'LOOM_ERR_CLIENT_ABORTED');
    } finally {
      await g.stop();
      await hanging.close();
    }
  });

  test('an upstream that stops reading the request body trips timeout.write → 504', async () => {
    // The upstream never reads: its socket buffers fill and the gateway is paused.
    const deaf = await startUpstream('deaf', (req) => {
      req.pause();
      req.socket.pause();
    });
    const g = await startGateway(oneRoute(deaf.address, '    timeout:\n      write: 200ms\n      read: 30s\n'));
    try {
      const req = request({ host: '127.0.0.1', port: g.port, path: '/upload', method: 'POST', agent: false, headers: { 'content-length': String(64 * 1024 * 1024) } });
      const responded = once(req, 'response');
      req.on('error', () => undefined);
      const chunk = Buffer.alloc(256 * 1024, 1);
      let written = 0;
      const pump = () => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
      };
      pump();
      const [res] = (await responded) as [import('node:http').IncomingMessage];
      assert.equal(res.statusCode, 504);
      req.destroy();
    } finally {
      await g.stop();
      await deaf.close();
    }
  });
});
