import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { Http1Connection, type Http1Handler, type Http1Request } from '../../src/upstream/http1/http1-connection.js';

/**
 * A raw TCP upstream: `onRequest(head, socket, body)` answers with whatever bytes the test
 * wants. Request bodies are framed by Content-Length or chunked (kept raw, terminator included).
 */
async function rawUpstream(onRequest: (head: string, socket: net.Socket, body: string) => void): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      for (;;) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = data.slice(0, end);
        const rest = data.slice(end + 4);
        const length = /\r\ncontent-length: (\d+)/i.exec(head);
        let bodyLength = length === null ? 0 : Number(length[1]);
        if (/\r\ntransfer-encoding: chunked/i.test(head)) {
          const term = rest.startsWith('0\r\n\r\n') ? 0 : rest.indexOf('\r\n0\r\n\r\n');
          if (term < 0) return;
          bodyLength = term === 0 ? 5 : term + 7;
        }
        if (rest.length < bodyLength) return;
        data = rest.slice(bodyLength);
        onRequest(head, socket, rest.slice(0, bodyLength));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Outcome {
  status: number;
  headers: string[];
  body: Buffer;
  trailers: string[] | null;
  error: (Error & { code?: string }) | null;
}

function connection(port: number, over: Partial<ConstructorParameters<typeof Http1Connection>[0]> = {}): Http1Connection {
  return new Http1Connection({ host: '127.0.0.1', port, authority: `127.0.0.1:${port}`, connectTimeout: 2000, bodyTimeout: 2000, keepAliveTimeout: 5000, ...over });
}

/** Dispatches one request; `slowFlush` defers each `flushed` (as a busy client socket would). */
function request(c: Http1Connection, req: Partial<Http1Request> = {}, opts: { pauseOnce?: boolean; pauseFor?: number; slowFlush?: boolean } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, headers: [], body: Buffer.alloc(0), trailers: null, error: null };
    const parts: Buffer[] = [];
    let resume: (() => void) | null = null;
    let paused = false;
    const handler: Http1Handler = {
      onConnect: () => undefined,
      onHeaders(status, headers, r) {
        out.status = status;
        out.headers = headers;
        resume = r;
        return true;
      },
      onData(chunk, flushed) {
        if (opts.slowFlush) {
          // Read the view only later, as a queued socket write would (several reads come
          // in meanwhile): a buffer reused before `flushed` shows up as corrupted bytes.
          const i = parts.push(Buffer.alloc(0)) - 1;
          setTimeout(() => {
            parts[i] = Buffer.from(chunk);
            flushed();
          }, 5);
        } else {
          parts.push(Buffer.from(chunk)); // copied: the view is reused once flushed
          flushed();
        }
        if ((opts.pauseOnce || opts.pauseFor !== undefined) && !paused) {
          paused = true;
          setTimeout(() => resume!(), opts.pauseFor ?? 0);
          return false;
        }
        return true;
      },
      onComplete(trailers) {
        out.trailers = trailers;
        // After the deferred copies (timers of equal delay run in order).
        setTimeout(() => {
          out.body = Buffer.concat(parts);
          resolve(out);
        }, opts.slowFlush ? 5 : 0);
      },
      onError(err) {
        out.error = err;
        out.body = Buffer.concat(parts);
        resolve(out);
      },
    };
    c.dispatch({ method: 'GET', path: '/', headers: [], body: null, headersTimeout: 2000, ...req }, handler);
  });
}

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

describe('upstream HTTP/1.1 connection', () => {
  test('keep-alive: sequential requests reuse one connection; Host is added when missing', async () => {
    const heads: string[] = [];
    const up = await rawUpstream((head, s) => {
      heads.push(head);
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const c = connection(up.port);
    cleanups.push(() => c.destroy(), up.close);
    for (let i = 0; i < 3; i++) {
      const r = await request(c, { path: `/n${i}`, headers: ['x-a', '1'] });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ok');
    }
    assert.equal(up.connections(), 1);
    assert.match(heads[2], /^GET \/n2 HTTP\/1\.1\r\nx-a: 1\r\nhost: 127\.0\.0\.1:\d+$/);
  });

  test('a large body streams through reused read buffers intact, also when the handler pauses and flushes late', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;
    const up = await rawUpstream((_head, s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
      s.write(big);
    });
    const c = connection(up.port);
    cleanups.push(() => c.destroy(), up.close);
    for (const opts of [{}, { pauseOnce: true }, { slowFlush: true }]) {
      const r = await request(c, {}, opts);
      assert.equal(r.error, null);
      assert.ok(r.body.equals(big), `body intact with ${JSON.stringify(opts)}`);
    }
  });

  test('chunked response with trailers; close-delimited response ends at EOF and is not reused', async () => {
    const up = await rawUpstream((head, s) => {
      if (head.startsWith('GET /chunked')) s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 9\r\n\r\n');
      else s.end('HTTP/1.1 200 OK\r\n\r\nuntil close');
    });
    const c = connection(up.port);
    cleanups.push(() => c.destroy(), up.close);
    const chunked = await request(c, { path: '/chunked' });
    assert.equal(chunked.body.toString(), 'abc');
    assert.deepEqual(chunked.trailers, ['X-Sum', '9']);
    const eof = await request(c, { path: '/eof' });
    assert.equal(eof.body.toString(), 'until close');
    assert.equal(c.connected, false);
    const again = await request(c, { path: '/chunked' });
    assert.equal(again.body.toString(), 'abc');
    assert.equal(up.connections(), 2);
  });

  test('request bodies: a Buffer gets Content-Length, a stream without one is sent chunked', async () => {
    const seen: string[] = [];
    const up = await rawUpstream((head, s, body) => {
      seen.push(`${head}\n${body}`);
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    });
    const c = connection(up.port);
    cleanups.push(() => c.destroy(), up.close);
    await request(c, { method: 'POST', body: Buffer.from('hello') });
    const stream = new PassThrough();
    const done = request(c, { method: 'PUT', body: stream });
    stream.write('ab');
    stream.end('cde');
    await done;
    assert.match(seen[0], /content-length: 5\r?\n?[\s\S]*\nhello$/);
    assert.match(seen[1], /transfer-encoding: chunked/);
    assert.ok(seen[1].endsWith('\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n'), seen[1]);
  });

  test('failures carry codes: refused, headers timeout, closed mid-body, protocol error', async () => {
    const free = await rawUpstream(() => undefined);
    const freePort = free.port;
    await free.close();
    const refused = await request(connection(freePort));
    assert.equal(refused.error?.code, 'ECONNREFUSED');

    const up = await rawUpstream((head, s) => {
      if (head.startsWith('GET /silent')) return;
      if (head.startsWith('GET /cut')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n');
    });
    cleanups.push(up.close);
    const silent = await request(connection(up.port), { path: '/silent', headersTimeout: 50 });
    assert.equal(silent.error?.code, 'LOOM_H1_HEADERS_TIMEOUT');
    const cut = await request(connection(up.port), { path: '/cut' });
    assert.equal(cut.error?.code, 'LOOM_H1_SOCKET_CLOSED');
    assert.equal(cut.body.toString(), 'abc');
    const bad = await request(connection(up.port), { path: '/bad' });
    assert.equal(bad.error?.code, 'HPE_INVALID_CONTENT_LENGTH');
  });

  test('bytes after the end of a response: the connection is not reused', async () => {
    const up = await rawUpstream((_head, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA'));
    const c = connection(up.port);
    cleanups.push(() => c.destroy(), up.close);
    assert.equal((await request(c)).body.toString(), 'x');
    assert.equal((await request(c)).body.toString(), 'x');
    assert.equal(up.connections(), 2);
  });

  test('the body idle timeout trips when the upstream stalls mid-body, not while the handler holds the stream paused', async () => {
    const up = await rawUpstream((head, s) => {
      if (head.startsWith('GET /stall')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      else {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc');
        setTimeout(() => s.write('def'), 150);
      }
    });
    cleanups.push(up.close);
    const stalled = await request(connection(up.port, { bodyTimeout: 50 }), { path: '/stall' });
    assert.equal(stalled.error?.code, 'LOOM_H1_BODY_TIMEOUT');
    assert.equal(stalled.body.toString(), 'abc');
    // Paused by the handler for 120 ms (longer than the 50 ms idle timeout): not the upstream's fault.
    const c = connection(up.port, { bodyTimeout: 100 });
    const held = await request(c, { path: '/slow' }, { pauseFor: 120 });
    assert.equal(held.error, null);
    assert.equal(held.body.toString(), 'abcdef');
    await c.destroy();
  });

  test('an idle connection closes after the keep-alive timeout; the next request reconnects', async () => {
    const up = await rawUpstream((_head, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
    const c = connection(up.port, { keepAliveTimeout: 30 });
    cleanups.push(() => c.destroy(), up.close);
    await request(c);
    assert.equal(c.connected, true);
    while (c.connected) await new Promise((r) => setTimeout(r, 10));
    const r = await request(c);
    assert.equal(r.body.toString(), 'x');
    assert.equal(up.connections(), 2);
  });

  test('a handler that throws in onComplete gets onError instead of crashing the socket callback', async () => {
    const up = await rawUpstream((_head, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const c = connection(up.port);
    cleanups.push(() => c.destroy(), up.close);
    const boom = new Error('handler bug');
    const err = await new Promise<Error>((resolve) => {
      c.dispatch({ method: 'GET', path: '/', headers: [], body: null, headersTimeout: 2000 }, {
        onConnect: () => undefined,
        onHeaders: () => true,
        onData: (_chunk, flushed) => {
          flushed();
          return true;
        },
        onComplete: () => {
          throw boom;
        },
        onError: resolve,
      });
    });
    assert.equal(err, boom);
    assert.equal(c.connected, false, 'the connection is not reused after a handler failure');
    assert.equal((await request(c)).body.toString(), 'ok');
  });

  test('a header value with CR/LF is refused before anything is written', async () => {
    const up = await rawUpstream((_head, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const c = connection(up.port);
    cleanups.push(() => c.destroy(), up.close);
    const r = await request(c, { headers: ['x-bad', 'a\r\nInjected: 1'] });
    assert.equal(r.error?.code, 'LOOM_H1_INVALID_HEADER');
  });
});
