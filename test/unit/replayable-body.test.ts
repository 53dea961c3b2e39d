import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { readReplayableBody, isReplayable, type ReplayableBody } from '../../src/proxy/replayable-body.js';
import { GatewayError } from '../../src/errors.js';

const LIMIT = 1024;

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

/** A server on 127.0.0.1:0 that hands each request to the test. */
async function startServer(): Promise<{ server: Server; port: number; next(): Promise<Exchange> }> {
  const waiting: Array<(e: Exchange) => void> = [];
  const queued: Exchange[] = [];
  const server = createServer((req, res) => {
    const w = waiting.shift();
    if (w) w({ req, res });
    else queued.push({ req, res });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    next: () => new Promise<Exchange>((resolve) => (queued.length > 0 ? resolve(queued.shift() as Exchange) : waiting.push(resolve))),
  };
}

function open(port: number, headers: Record<string, string> = {}, method = 'POST'): ClientRequest {
  const req = request({ host: '127.0.0.1', port, method, path: '/', headers, agent: false });
  req.on('error', () => {}); // aborts are deliberate here
  req.on('response', (res) => res.resume());
  return req;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function contentLengthOf(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  return v === undefined ? undefined : Number(v);
}

async function withServer(fn: (s: Awaited<ReturnType<typeof startServer>>) => Promise<void>): Promise<void> {
  const s = await startServer();
  try {
    await fn(s);
  } finally {
    s.server.closeAllConnections();
    s.server.close();
  }
}

test('no body (GET) → empty', () =>
  withServer(async ({ port, next }) => {
    open(port, {}, 'GET').end();
    const { req, res } = await next();
    const body = await readReplayableBody(req, contentLengthOf(req), LIMIT);
    assert.deepEqual(body, { kind: 'empty' });
    assert.equal(isReplayable(body), true);
    res.end();
  }));

test('content-length: 0 → empty', () =>
  withServer(async ({ port, next }) => {
    open(port, { 'content-length': '0' }).end();
    const { req, res } = await next();
    assert.deepEqual(await readReplayableBody(req, contentLengthOf(req), LIMIT), { kind: 'empty' });
    res.end();
  }));

test('content-length body under the limit → buffered', () =>
  withServer(async ({ port, next }) => {
    const payload = bytes(700);
    open(port, { 'content-length': String(payload.length) }).end(payload);
    const { req, res } = await next();
    const body = await readReplayableBody(req, contentLengthOf(req), LIMIT);
    assert.equal(body.kind, 'buffered');
    assert.deepEqual((body as { body: Buffer }).body, payload);
    res.end();
  }));

test('chunked upload under the limit, in several writes → buffered', () =>
  withServer(async ({ port, next }) => {
    const client = open(port, { 'transfer-encoding': 'chunked' });
    const parts = [bytes(100, 1), bytes(300, 2), bytes(1, 3), bytes(600, 4)];
    client.write(parts[0]);
    const { req, res } = await next();
    const pending = readReplayableBody(req, contentLengthOf(req), LIMIT);
    for (const p of parts.slice(1)) client.write(p);
    client.end();
    const body = await pending;
    assert.equal(body.kind, 'buffered');
    assert.deepEqual((body as { body: Buffer }).body, Buffer.concat(parts));
    res.end();
  }));

test('exactly limit bytes (chunked) → buffered', () =>
  withServer(async ({ port, next }) => {
    const payload = bytes(LIMIT);
    const client = open(port, { 'transfer-encoding': 'chunked' });
    client.write(payload.subarray(0, 10));
    client.end(payload.subarray(10));
    const { req, res } = await next();
    const body = await readReplayableBody(req, contentLengthOf(req), LIMIT);
    assert.equal(body.kind, 'buffered');
    assert.deepEqual((body as { body: Buffer }).body, payload);
    res.end();
  }));

test('content-length over the limit → the request itself, untouched', () =>
  withServer(async ({ port, next }) => {
    const payload = bytes(LIMIT * 4);
    open(port, { 'content-length': String(payload.length) }).end(payload);
    const { req, res } = await next();
    const body = await readReplayableBody(req, contentLengthOf(req), LIMIT);
    assert.equal(body.kind, 'stream');
    assert.equal((body as { body: Readable }).body, req);
    assert.equal(isReplayable(body), false);
    assert.equal(req.readableFlowing, null, 'never switched to flowing mode');
    assert.equal(req.listenerCount('data'), 0);
    assert.deepEqual(await readAll(req), payload);
    res.end();
  }));

test('chunked upload over the limit → stream with the read prefix, then the rest', () =>
  withServer(async ({ port, next }) => {
    const parts = [bytes(600, 1), bytes(600, 2), bytes(50_000, 3), bytes(7, 4)];
    const client = open(port, { 'transfer-encoding': 'chunked' });
    client.write(parts[0]);
    const { req, res } = await next();
    const pending = readReplayableBody(req, contentLengthOf(req), LIMIT);
    client.write(parts[1]);
    const body = await pending; // resolves as soon as 1200 > 1024 bytes arrived
    assert.equal(body.kind, 'stream');
    const stream = (body as { body: Readable }).body;
    assert.notEqual(stream, req);
    client.write(parts[2]);
    client.end(parts[3]);
    assert.deepEqual(await readAll(stream), Buffer.concat(parts));
    res.end();
  }));

test('client abort while buffering → rejects with LOOM_ERR_CLIENT_ABORTED', () =>
  withServer(async ({ port, next }) => {
    const client = open(port, { 'transfer-encoding': 'chunked' });
    client.write(bytes(100));
    const { req } = await next();
    const pending = readReplayableBody(req, contentLengthOf(req), LIMIT);
    client.destroy();
    await assert.rejects(pending, (err: unknown) => err instanceof GatewayError && err.code === 'LOOM_ERR_CLIENT_ABORTED' && err.status === 499);
  }));

test('client abort after the stream was returned → the stream errors with LOOM_ERR_CLIENT_ABORTED', () =>
  withServer(async ({ port, next }) => {
    const client = open(port, { 'transfer-encoding': 'chunked' });
    client.write(bytes(2000));
    const { req } = await next();
    const body = await readReplayableBody(req, contentLengthOf(req), LIMIT);
    assert.equal(body.kind, 'stream');
    const stream = (body as { body: Readable }).body;
    const received: Buffer[] = [];
    const done = (async () => {
      for await (const c of stream) {
        received.push(c as Buffer);
        // abort once the consumer is reading and has seen the prefix
        if (received.length === 1) client.destroy();
      }
    })();
    await assert.rejects(done, (err: unknown) => err instanceof GatewayError && err.code === 'LOOM_ERR_CLIENT_ABORTED');
    assert.ok(Buffer.concat(received).length >= 1025);
  }));

test('abort before anyone reads the stream: no unhandled error; the first read surfaces it', () =>
  withServer(async ({ port, next }) => {
    const client = open(port, { 'transfer-encoding': 'chunked' });
    client.write(bytes(2000));
    const { req } = await next();
    const body = await readReplayableBody(req, contentLengthOf(req), LIMIT);
    const stream = (body as { body: Readable }).body;
    const closed = new Promise<void>((resolve) => req.on('close', resolve)); // events.once would reject on req's 'error'
    client.destroy();
    await closed;
    assert.equal(stream.destroyed, false, 'held, not thrown at nobody');
    await assert.rejects(readAll(stream), (err: unknown) => err instanceof GatewayError && err.code === 'LOOM_ERR_CLIENT_ABORTED');
  }));

// --- Synthetic sources: backpressure and error propagation without sockets. ---

function endlessSource(chunkSize: number): { source: Readable; produced: () => number } {
  let n = 0;
  const source = new Readable({
    highWaterMark: 4 * chunkSize,
    read() {
      // asynchronous, like a socket: a synchronous endless source would starve the loop
      setImmediate(() => {
        if (this.destroyed) return;
        n++;
        this.push(bytes(chunkSize, n));
      });
    },
  });
  return { source, produced: () => n };
}

async function turns(k: number): Promise<void> {
  for (let i = 0; i < k; i++) await new Promise<void>((r) => setImmediate(r));
}

test('backpressure: a consumer that stops reading stops the source', async () => {
  const { source, produced } = endlessSource(256);
  const body = await readReplayableBody(source, undefined, LIMIT);
  assert.equal(body.kind, 'stream');
  const stream = (body as { body: Readable }).body;
  assert.equal(stream.read(100)?.length, 100);
  await turns(50);
  const after = produced();
  await turns(50);
  assert.equal(produced(), after, 'source no longer read while nobody consumes');
  assert.ok(after < 64, `source produced ${after} chunks`);
  source.destroy();
  stream.destroy();
});

test('a source error after the switch destroys the stream with LOOM_ERR_CLIENT_ABORTED (cause kept)', async () => {
  const { source } = endlessSource(512);
  const body = await readReplayableBody(source, undefined, LIMIT);
  const stream = (body as { body: Readable }).body;
  const boom = new Error('boom');
  const reading = readAll(stream);
  await turns(2);
  source.destroy(boom);
  await assert.rejects(reading, (err: unknown) => err instanceof GatewayError && err.code === 'LOOM_ERR_CLIENT_ABORTED' && (err as Error).cause === boom);
});

test('a source error while buffering rejects', async () => {
  const source = new Readable({ read() {} });
  const pending = readReplayableBody(source, undefined, LIMIT);
  source.push(bytes(10));
  source.destroy(new Error('gone'));
  await assert.rejects(pending, (err: unknown) => err instanceof GatewayError && err.code === 'LOOM_ERR_CLIENT_ABORTED');
});

test('destroying the returned stream detaches it and drains the source', async () => {
  const source = new Readable({ read() {} });
  const pending = readReplayableBody(source, undefined, 4);
  source.push(bytes(10));
  const body: ReplayableBody = await pending;
  const stream = (body as { body: Readable }).body;
  stream.destroy();
  await once(stream, 'close');
  assert.equal(source.listenerCount('data'), 0);
  assert.equal(source.readableFlowing, true, 'the rest is discarded, not left to stall the connection');
});

test('an already-ended request → empty', async () => {
  const source = Readable.from([], { objectMode: false });
  await readAll(source);
  assert.deepEqual(await readReplayableBody(source, undefined, LIMIT), { kind: 'empty' });
});
