import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ResponseParser, type ResponseSink } from '../../src/upstream/http1/response-parser.js';
import { Http1Error } from '../../src/upstream/http1/http1-error.js';

interface Parsed {
  status: number;
  statusText: string;
  headers: string[];
  body: string;
  trailers: string[] | null;
  ended: boolean;
  keepAlive: boolean;
}

/** Feeds `pieces` one after another (each a separate buffer, as separate reads would be). */
function parse(pieces: readonly Buffer[], opts: { head?: boolean; pauseEvery?: number } = {}): Parsed {
  const out: Parsed = { status: 0, statusText: '', headers: [], body: '', trailers: null, ended: false, keepAlive: false };
  const parser = new ResponseParser();
  let bodyCalls = 0;
  const sink: ResponseSink = {
    onHead(status, statusText, headers) {
      Object.assign(out, { status, statusText, headers });
      return true;
    },
    onBody(chunk) {
      out.body += chunk.toString('latin1');
      return opts.pauseEvery === undefined || ++bodyCalls % opts.pauseEvery !== 0;
    },
  };
  parser.start(sink, opts.head ?? false);
  for (const piece of pieces) {
    let pos = 0;
    // A paused parser is resumed at once here: what matters is that it continues where it stopped.
    while (pos < piece.length && !parser.done) pos = parser.execute(piece, pos, piece.length);
  }
  out.ended = parser.done;
  out.trailers = parser.trailers;
  out.keepAlive = parser.keepAlive;
  return out;
}

/** One execute over the whole text; the parser and where it stopped. */
function executeOnce(text: string): { parser: ResponseParser; stop: number; length: number } {
  const parser = new ResponseParser();
  parser.start({ onHead: () => true, onBody: () => true }, false);
  const buf = Buffer.from(text, 'latin1');
  return { parser, stop: parser.execute(buf, 0, buf.length), length: buf.length };
}

const one = (s: string): Buffer[] => [Buffer.from(s, 'latin1')];
const bytewise = (s: string): Buffer[] => [...Buffer.from(s, 'latin1')].map((b) => Buffer.from([b]));

function protocolError(pieces: Buffer[], code: string): void {
  assert.throws(() => parse(pieces), (e: unknown) => e instanceof Http1Error && e.code === code);
}

describe('HTTP/1.1 response parser', () => {
  test('Content-Length body, headers in order with their case, keep-alive', () => {
    const r = parse(one('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Dup: a\r\nX-Dup: b\r\nContent-Length: 5\r\n\r\nhello'));
    assert.deepEqual(r, {
      status: 200,
      statusText: 'OK',
      headers: ['Content-Type', 'text/plain', 'X-Dup', 'a', 'X-Dup', 'b', 'Content-Length', '5'],
      body: 'hello',
      trailers: null,
      ended: true,
      keepAlive: true,
    });
  });

  test('chunked body with extensions and trailers, fed one byte at a time', () => {
    const text = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n';
    const r = parse(bytewise(text));
    assert.equal(r.status, 201);
    assert.equal(r.body, 'hello, world!!!');
    assert.deepEqual(r.trailers, ['X-Sum', '42', 'X-Other', 'y']);
    assert.equal(r.keepAlive, true);
  });

  test('any split of a response into reads, and pauses, give the same result', () => {
    const responses = [
      'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nT: 1\r\n\r\n',
    ];
    const whole = responses.map((s) => parse(one(s)));
    fc.assert(
      fc.property(fc.nat(responses.length - 1), fc.array(fc.nat(200), { maxLength: 8 }), fc.integer({ min: 1, max: 3 }), (i, cuts, pauseEvery) => {
        const bytes = Buffer.from(responses[i], 'latin1');
        const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        let from = 0;
        for (const p of points) {
          pieces.push(bytes.subarray(from, p));
          from = p;
        }
        pieces.push(bytes.subarray(from));
        assert.deepEqual(parse(pieces.filter((p) => p.length > 0), { pauseEvery }), whole[i]);
      }),
    );
  });

  test('no body for HEAD, 204 and 304, whatever Content-Length says', () => {
    assert.deepEqual(parse(one('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'), { head: true }).body, '');
    assert.equal(parse(one('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n'), { head: true }).ended, true);
    assert.equal(parse(one('HTTP/1.1 204 No Content\r\n\r\n')).ended, true);
    assert.equal(parse(one('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n')).ended, true);
  });

  test('interim 1xx responses are skipped; the final head is reported', () => {
    const r = parse(one('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers, ['Content-Length', '1']);
    assert.equal(r.body, 'x');
  });

  test('close-delimited bodies and Connection: close end the keep-alive; HTTP/1.0 closes unless asked', () => {
    const untilClose = parse(one('HTTP/1.1 200 OK\r\n\r\npartial'));
    assert.equal(untilClose.body, 'partial');
    assert.equal(untilClose.ended, false);
    assert.equal(untilClose.keepAlive, false);
    assert.equal(parse(one('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')).keepAlive, false);
    assert.equal(parse(one('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).keepAlive, false);
    assert.equal(parse(one('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')).keepAlive, true);
  });

  test('Transfer-Encoding wins over Content-Length and the connection is not reused', () => {
    const r = parse(one('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n'));
    assert.equal(r.body, 'x');
    assert.equal(r.keepAlive, false);
  });

  test('execute stops at the end of a response and leaves what follows to the caller', () => {
    const { parser, stop, length } = executeOnce('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA');
    assert.equal(stop, length - 5);
    assert.equal(parser.done, true);
  });

  test('Keep-Alive: timeout is read as a hint in ms', () => {
    const { parser } = executeOnce('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n');
    assert.equal(parser.keepAliveHint, 5000);
  });

  test('malformed responses are protocol errors with llhttp-style codes', () => {
    protocolError(one('HTTP/2 200 OK\r\n\r\n'), 'HPE_INVALID_CONSTANT');
    protocolError(one('HTTP/1.1 2000 OK\r\n\r\n'), 'HPE_INVALID_CONSTANT');
    protocolError(one('HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN');
    protocolError(one('HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN');
    protocolError(one('HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN');
    protocolError(one('HTTP/1.1 200 O\x7fK\r\n\r\n'), 'HPE_INVALID_CONSTANT');
    protocolError(one('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\x02\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN');
    protocolError(one('HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'), 'HPE_INVALID_CONTENT_LENGTH');
    protocolError(one('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'), 'HPE_UNEXPECTED_CONTENT_LENGTH');
    protocolError(one('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 'HPE_INVALID_CHUNK_SIZE');
    protocolError(one('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy'), 'HPE_STRICT');
    protocolError(one('HTTP/1.1 101 Switching Protocols\r\n\r\n'), 'HPE_INVALID_STATUS');
    protocolError([Buffer.from('HTTP/1.1 200 OK\r\n'), Buffer.from(`X: ${'a'.repeat(17 * 1024)}`)], 'HPE_HEADER_OVERFLOW');
  });
});
