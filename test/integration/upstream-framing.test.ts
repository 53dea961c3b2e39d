// Response framings an upstream may use, end to end through a running gateway: the
// upstream is a raw TCP server, so every byte it sends is the test's choice.
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, configWith, type RunningGateway } from '../helpers/gateway.js';
import { send } from '../helpers/http-client.js';

/** What the raw upstream answers for each path (the request head is read, a body is not expected). */
const ANSWERS: Record<string, string> = {
  '/length': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
  '/head': 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Kind: head\r\n\r\n',
  '/no-content': 'HTTP/1.1 204 No Content\r\nX-Kind: 204\r\n\r\n',
  '/not-modified': 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 7\r\n\r\n',
  '/early-hints': 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\n\r\n',
  '/close': 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nclosed',
  '/until-eof': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the upstream closes',
  '/garbage': 'HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n',
};
const CLOSE_AFTER = new Set(['/close', '/until-eof', '/garbage']);

describe('upstream response framing', () => {
  let upstream: net.Server;
  let connections = 0;
  let gw: RunningGateway;

  before(async () => {
    upstream = net.createServer((socket) => {
      connections++;
      let data = '';
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        data += chunk.toString('latin1');
        let end: number;
        while ((end = data.indexOf('\r\n\r\n')) >= 0) {
          const path = data.slice(0, end).split(' ')[1];
          data = data.slice(end + 4);
          const answer = ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
          if (CLOSE_AFTER.has(path)) socket.end(answer);
          else socket.write(answer);
        }
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as net.AddressInfo).port;
    gw = await startGateway(configWith(`
routes:
  - { id: all, path: /*, upstream: raw }
upstreams:
  - name: raw
    endpoints: ["127.0.0.1:${port}"]
    pool: { max_open: 1, max_idle: 1 }
`));
  });

  after(async () => {
    await gw.stop();
    await new Promise((r) => upstream.close(r));
  });

  test('Content-Length, chunked (re-framed for the client) and 1xx-then-200 responses', async () => {
    assert.equal((await send(gw.port, '/length')).body, 'hello');
    assert.equal((await send(gw.port, '/chunked')).body, 'abcdefg');
    const hinted = await send(gw.port, '/early-hints');
    assert.equal(hinted.status, 200);
    assert.equal(hinted.body, 'ok');
  });

  test('HEAD, 204 and 304 carry no body, whatever Content-Length says, and the connection is reused', async () => {
    const before = connections;
    const head = await send(gw.port, '/head', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['x-kind'], 'head');
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.body, '');
    const noContent = await send(gw.port, '/no-content');
    assert.equal(noContent.status, 204);
    assert.equal(noContent.headers['x-kind'], '204');
    const notModified = await send(gw.port, '/not-modified');
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, '"v1"');
    assert.equal((await send(gw.port, '/length')).body, 'hello');
    assert.ok(connections - before <= 1, `one upstream connection for four requests, saw ${connections - before} new`);
  });

  test('Connection: close and close-delimited bodies: the body is complete and the next request reconnects', async () => {
    const closed = await send(gw.port, '/close');
    assert.equal(closed.body, 'closed');
    const before = connections;
    const eof = await send(gw.port, '/until-eof');
    assert.equal(eof.status, 200);
    assert.equal(eof.body, 'read until the upstream closes');
    assert.equal((await send(gw.port, '/length')).body, 'hello');
    assert.equal(connections - before, 2, 'the EOF-delimited answer closed its connection; the next request opened one');
  });

  test('a malformed response becomes 502 LOOM_ERR_UPSTREAM_PROTOCOL, and the next request still works', async () => {
    const bad = await send(gw.port, '/garbage');
    assert.equal(bad.status, 502);
    assert.equal(bad.json().error.code, 'LOOM_ERR_UPSTREAM_PROTOCOL');
    assert.equal((await send(gw.port, '/length')).body, 'hello');
  });
});
