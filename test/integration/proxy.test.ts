// The proxy end to end: real upstream servers, a real gateway, real HTTP clients.
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startGateway, configWith, type RunningGateway } from '../helpers/gateway.js';
import { send } from '../helpers/http-client.js';
import { request as httpRequest } from 'node:http';

describe('proxy end to end', () => {
  let a: TestUpstream;
  let gw: RunningGateway;

  before(async () => {
    a = await startUpstream('a', (req, res, up) => {
      if (req.url === '/trailers') {
        res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
        res.write('part one,');
        res.write('part two');
        res.addTrailers({ 'x-checksum': 'abc123' });
        res.end();
        return;
      }
      if (req.url === '/raw/hop') {
        res.writeHead(200, {
          connection: 'x-secret, keep-alive',
          'x-secret': 'should not pass',
          'keep-alive': 'timeout=5',
          'x-kept': 'yes',
          'content-length': '2',
        });
        res.end('ok');
        return;
      }
      if (req.url === '/raw/with-id') {
        res.writeHead(200, { 'x-request-id': 'from-upstream', 'content-length': '0' });
        res.end();
        return;
      }
      const body = JSON.stringify({ upstream: up.name, method: req.method, url: req.url, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    gw = await startGateway(
      configWith(`
routes:
  - id: api
    path: /api/*
    upstream: a
    strip_prefix: true
  - id: admin
    path: /admin/*
    upstream: a
  - id: user
    path: /users/{id}
    methods: [GET, PUT]
    upstream: a
  - id: raw
    path: /raw/*
    upstream: a
  - id: trailers
    path: /trailers
    upstream: a
upstreams:
  - name: a
    endpoints: ["\${A}"]
`),
      { env: { A: a.address } },
    );
  });

  after(async () => {
    await gw?.stop();
    await a?.close();
  });

  test('strip_prefix: /api/users reaches the upstream as /users, the query intact', async () => {
    const res = await send(gw.port, '/api/users?x=1&y=%20');
    assert.equal(res.status, 200);
    assert.equal(res.json().url, '/users?x=1&y=%20');
    const root = await send(gw.port, '/api');
    assert.equal(root.json().url, '/');
  });

  test('dot segments are removed before matching, so /api/../admin never goes through /api/*', async () => {
    const res = await send(gw.port, '/api/../admin/panel');
    assert.equal(res.status, 200);
    // Matched /admin/* (no strip), not /api/* (which would have stripped "/api").
    assert.equal(res.json().url, '/admin/panel');
    const encoded = await send(gw.port, '/api/%2e%2e/admin/x');
    assert.equal(encoded.json().url, '/admin/x');
  });

  test('encoded slash or backslash → 400 JSON', async () => {
    for (const path of ['/api/a%2Fb', '/api/a%5cb']) {
      const res = await send(gw.port, path);
      assert.equal(res.status, 400, path);
      assert.equal(res.json().error.code, 'LOOM_ERR_BAD_PATH');
    }
    assert.equal(a.seen.filter((s) => s.url.includes('%2F') || s.url.includes('%5c')).length, 0);
  });

  test('unmatched path → 404 JSON; wrong method → 405 JSON with Allow', async () => {
    const nf = await send(gw.port, '/nowhere');
    assert.equal(nf.status, 404);
    assert.equal(nf.headers['content-type'], 'application/json');
    assert.equal(nf.json().error.code, 'LOOM_ERR_ROUTE_NOT_FOUND');
    assert.ok(nf.json().error.request_id);
    const na = await send(gw.port, '/users/7', { method: 'DELETE' });
    assert.equal(na.status, 405);
    assert.equal(na.json().error.code, 'LOOM_ERR_METHOD_NOT_ALLOWED');
    assert.deepEqual(na.headers.allow?.split(', ').sort(), ['GET', 'HEAD', 'PUT']);
    const ok = await send(gw.port, '/users/7', { method: 'PUT', body: 'x' });
    assert.equal(ok.status, 200);
    assert.equal(ok.json().method, 'PUT');
  });

  test('X-Forwarded-* set, client Host forwarded, X-Request-ID generated and returned', async () => {
    const res = await send(gw.port, '/api/h', { headers: { host: 'shop.example.com', 'x-forwarded-for': '203.0.113.9' } });
    const seen = res.json().headers;
    assert.equal(seen.host, 'shop.example.com');
    assert.equal(seen['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen['x-forwarded-host'], 'shop.example.com');
    assert.match(seen['x-request-id'], /^[0-9a-f-]{36}$/);
    assert.equal(res.headers['x-request-id'], seen['x-request-id']);
  });

  test('a valid client X-Request-ID is kept both ways; an invalid one is replaced', async () => {
    const kept = await send(gw.port, '/api/h', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(kept.json().headers['x-request-id'], 'abc-123');
    assert.equal(kept.headers['x-request-id'], 'abc-123');
    const replaced = await send(gw.port, '/api/h', { headers: { 'x-request-id': 'has space' } });
    assert.notEqual(replaced.json().headers['x-request-id'], 'has space');
    const fromUpstream = await send(gw.port, '/raw/with-id', { headers: { 'x-request-id': 'client-id' } });
    assert.equal(fromUpstream.headers['x-request-id'], 'client-id', 'the id the upstream and the log saw, not the upstream own');
  });

  test('hop-by-hop headers and those named in Connection are removed in both directions', async () => {
    const res = await send(gw.port, '/api/h', {
      headers: { connection: 'x-private, keep-alive', 'x-private': 'secret', 'keep-alive': 'timeout=9', 'proxy-authorization': 'Basic eA==', te: 'trailers', 'x-normal': '1' },
    });
    const seen = res.json().headers;
    assert.equal(seen['x-private'], undefined);
    assert.equal(seen['keep-alive'], undefined);
    assert.equal(seen['proxy-authorization'], undefined);
    assert.equal(seen.te, 'trailers');
    assert.equal(seen['x-normal'], '1');
    const back = await send(gw.port, '/raw/hop');
    assert.equal(back.headers['x-secret'], undefined);
    assert.equal(back.headers['keep-alive'], undefined);
    assert.equal(back.headers['x-kept'], 'yes');
    assert.equal(back.body, 'ok');
  });

  test('response trailers pass through', async () => {
    const res = await send(gw.port, '/trailers', { headers: { te: 'trailers' } });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'part one,part two');
    assert.equal(res.trailers['x-checksum'], 'abc123');
  });

  test('request trailers of a chunked upload reach the upstream', async () => {
    const up = await startUpstream('t', (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(JSON.stringify({ body, trailers: req.trailers })));
    });
    const g = await startGateway(configWith(`
routes:
  - { id: t, path: /*, upstream: t }
upstreams:
  - name: t
    endpoints: ["${up.address}"]
`));
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: g.port, path: '/up', method: 'POST', headers: { trailer: 'x-digest' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.write('part one,');
        req.addTrailers({ 'x-digest': 'sha-256=abc', connection: 'close' });
        req.end('part two');
      });
      const { body, trailers } = JSON.parse(answer) as { body: string; trailers: Record<string, string> };
      assert.equal(body, 'part one,part two');
      assert.equal(trailers['x-digest'], 'sha-256=abc');
      assert.equal(trailers.connection, undefined);
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('request bodies reach the upstream intact (content-length and chunked)', async () => {
    const echo = await startUpstream('echo', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        res.writeHead(200, { 'x-te': String(req.headers['transfer-encoding'] ?? ''), 'content-length': body.length });
        res.end(body);
      });
    });
    const g = await startGateway(configWith(`
routes:
  - id: all
    path: /*
    upstream: echo
upstreams:
  - name: echo
    endpoints: ["${echo.address}"]
`));
    try {
      const fixed = await send(g.port, '/x', { method: 'POST', body: 'hello world' });
      assert.equal(fixed.body, 'hello world');
      const chunked = await send(g.port, '/x', { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'abc'.repeat(1000) });
      assert.equal(chunked.body, 'abc'.repeat(1000));
    } finally {
      await g.stop();
      await echo.close();
    }
  });

  test('one access-log line per request with route, upstream, endpoint, status, duration, bytes, request id', async () => {
    const before = gw.logs.length;
    const res = await send(gw.port, '/api/logged', { headers: { 'x-request-id': 'log-me-1' } });
    await new Promise((r) => setImmediate(r));
    const lines = gw.logs.slice(before).filter((l) => l.msg === 'request');
    assert.equal(lines.length, 1);
    const line = lines[0];
    assert.equal(line.request_id, 'log-me-1');
    assert.equal(line.route, 'api');
    assert.equal(line.upstream, 'a');
    assert.equal(line.endpoint, a.address);
    assert.equal(line.status, 200);
    assert.equal(line.bytes, Buffer.byteLength(res.body));
    assert.equal(typeof line.duration_ms, 'number');
    assert.equal(line.path, '/api/logged');
  });
});

describe('host_header: endpoint', () => {
  test('sends the endpoint host:port as Host, X-Forwarded-Host keeps the client host', async () => {
    const a = await startUpstream('a');
    const g = await startGateway(configWith(`
routes:
  - id: all
    path: /*
    upstream: a
upstreams:
  - name: a
    endpoints: ["${a.address}"]
    host_header: endpoint
`));
    try {
      const res = await send(g.port, '/', { headers: { host: 'public.example.com' } });
      assert.equal(res.json().headers.host, a.address);
      assert.equal(res.json().headers['x-forwarded-host'], 'public.example.com');
    } finally {
      await g.stop();
      await a.close();
    }
  });
});

describe('request forms clients really send', () => {
  async function rawExchange(port: number, text: string): Promise<string> {
    const { connect } = await import('node:net');
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(text));
      let out = '';
      socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
  }

  test('Expect: 100-continue uploads work (the gateway answers 100, the body reaches the upstream)', async () => {
    const up = await startUpstream('echo', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(`${req.headers.expect ?? 'no-expect'}:${Buffer.concat(chunks).toString()}`));
    });
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
`));
    try {
      const { request: httpRequest } = await import('node:http');
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: g.port, path: '/up', method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': '5' } });
        req.on('continue', () => req.end('hello'));
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
      });
      assert.equal(body, 'no-expect:hello');
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('two Host headers → 400; an absolute-form target is routed by its path', async () => {
    const up = await startUpstream('u');
    const g = await startGateway(configWith(`
routes:
  - { id: r, path: /api/*, upstream: u }
  - { id: admin, path: /api/*, host: admin.example.com, upstream: u, strip_prefix: true }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
`));
    try {
      const twoHosts = await rawExchange(g.port, 'GET /api/x HTTP/1.1\r\nHost: a.com\r\nHost: b.com\r\nConnection: close\r\n\r\n');
      assert.match(twoHosts, /^HTTP\/1\.1 400 /);
      const absolute = await rawExchange(g.port, 'GET http://a.com/api/abs?q=1 HTTP/1.1\r\nHost: a.com\r\nConnection: close\r\n\r\n');
      assert.match(absolute, /^HTTP\/1\.1 200 /);
      assert.equal(up.seen.at(-1)?.url, '/api/abs?q=1');
      // The target's authority, not the Host header, decides host matching.
      const authority = await rawExchange(g.port, 'GET http://admin.example.com/api/abs HTTP/1.1\r\nHost: a.com\r\nConnection: close\r\n\r\n');
      assert.match(authority, /^HTTP\/1\.1 200 /);
      assert.equal(up.seen.at(-1)?.url, '/abs');
    } finally {
      await g.stop();
      await up.close();
    }
  });
});
