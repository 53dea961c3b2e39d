import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildUpstreamHeaders, filterResponseHeaders, trailersToObject } from '../../src/proxy/header-rules.js';
import { isValidRequestId, requestIdFor } from '../../src/proxy/request-id.js';

const info = { clientIp: '10.0.0.1', proto: 'http', requestId: 'rid-1', hostOverride: undefined };

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

function get(flat: readonly string[] | null, name: string): string[] {
  assert.ok(flat !== null, "headers were refused");
  return pairs(flat).filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
}

describe('buildUpstreamHeaders', () => {
  test('removes hop-by-hop headers, keeps end-to-end ones in order with duplicates', () => {
    const out = buildUpstreamHeaders(
      ['Host', 'a.com', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Upgrade', 'h2c', 'Transfer-Encoding', 'chunked', 'Proxy-Authorization', 'x', 'Accept', 'a', 'Set-Thing', '1', 'Set-Thing', '2'],
      info,
    );
    assert.deepEqual(get(out, 'connection'), []);
    assert.deepEqual(get(out, 'keep-alive'), []);
    assert.deepEqual(get(out, 'upgrade'), []);
    assert.deepEqual(get(out, 'transfer-encoding'), []);
    assert.deepEqual(get(out, 'proxy-authorization'), []);
    assert.deepEqual(get(out, 'set-thing'), ['1', '2']);
    assert.deepEqual(get(out, 'accept'), ['a']);
  });

  test('removes every header named in Connection (case-insensitive, several Connection headers)', () => {
    const out = buildUpstreamHeaders(['Connection', 'X-A, close', 'connection', 'x-b', 'X-A', '1', 'x-b', '2', 'X-C', '3'], info);
    assert.deepEqual(get(out, 'x-a'), []);
    assert.deepEqual(get(out, 'x-b'), []);
    assert.deepEqual(get(out, 'x-c'), ['3']);
    const late = buildUpstreamHeaders(['X-A', '1', 'X-C', '3', 'Connection', 'x-a'], info);
    assert.deepEqual(get(late, 'x-a'), [], 'a Connection header after the header it names');
    assert.deepEqual(get(late, 'x-c'), ['3']);
    const b = (...v: string[]) => v;
    const back = filterResponseHeaders(b('X-A', '1', 'X-C', '3', 'Connection', 'X-A'), 'rid');
    assert.deepEqual(get(back, 'x-a'), []);
    assert.deepEqual(get(back, 'x-c'), ['3']);
  });

  test('keeps TE: trailers, drops other TE values', () => {
    assert.deepEqual(get(buildUpstreamHeaders(['TE', 'trailers'], info), 'te'), ['trailers']);
    assert.deepEqual(get(buildUpstreamHeaders(['TE', 'gzip'], info), 'te'), []);
  });

  test('appends to X-Forwarded-For (all existing values joined), replaces X-Forwarded-Proto/Host', () => {
    const out = buildUpstreamHeaders(
      ['Host', 'shop.com', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil.com'],
      info,
    );
    assert.deepEqual(get(out, 'x-forwarded-for'), ['1.1.1.1, 2.2.2.2, 10.0.0.1']);
    assert.deepEqual(get(out, 'x-forwarded-proto'), ['http']);
    assert.deepEqual(get(out, 'x-forwarded-host'), ['shop.com']);
    assert.deepEqual(get(out, 'host'), ['shop.com']);
  });

  test('sets X-Request-ID to the request id, once', () => {
    const out = buildUpstreamHeaders(['X-Request-ID', 'client-value', 'x-request-id', 'again'], info);
    assert.deepEqual(get(out, 'x-request-id'), ['rid-1']);
  });

  test('host override replaces the client Host', () => {
    const out = buildUpstreamHeaders(['Host', 'shop.com'], { ...info, hostOverride: '127.0.0.1:9000' });
    assert.deepEqual(get(out, 'host'), ['127.0.0.1:9000']);
    assert.deepEqual(get(out, 'x-forwarded-host'), ['shop.com']);
  });
});

describe('filterResponseHeaders', () => {
  const b = (...s: string[]) => s;
  test('drops hop-by-hop and Connection-named headers, adds X-Request-ID when absent', () => {
    const out = filterResponseHeaders(b('Connection', 'x-secret', 'X-Secret', 's', 'Transfer-Encoding', 'chunked', 'Trailer', 'x-sum', 'Content-Type', 'text/plain'), 'rid');
    assert.deepEqual(get(out, 'x-secret'), []);
    assert.deepEqual(get(out, 'transfer-encoding'), []);
    assert.deepEqual(get(out, 'trailer'), ['x-sum']);
    assert.deepEqual(get(out, 'content-type'), ['text/plain']);
    assert.deepEqual(get(out, 'x-request-id'), ['rid']);
  });
  test("replaces the upstream's own X-Request-ID with the request id", () => {
    assert.deepEqual(get(filterResponseHeaders(b('X-Request-ID', 'up'), 'rid'), 'x-request-id'), ['rid']);
  });
  test('trailersToObject drops hop-by-hop names', () => {
    assert.deepEqual(trailersToObject(b('X-Sum', '1', 'Connection', 'close')), { 'X-Sum': '1' });
  });
});

describe('request id', () => {
  test('keeps printable ids up to 200 characters, replaces others with a UUID', () => {
    assert.equal(requestIdFor('abc'), 'abc');
    assert.equal(isValidRequestId('a b'), false);
    assert.equal(isValidRequestId('x'.repeat(201)), false);
    assert.equal(isValidRequestId(''), false);
    assert.match(requestIdFor(undefined), /^[0-9a-f-]{36}$/);
    assert.match(requestIdFor(['a', 'b']), /^[0-9a-f-]{36}$/);
  });
});

describe('request validity rules', () => {
  test('a second Host header makes the request invalid (null → 400)', () => {
    assert.equal(buildUpstreamHeaders(['Host', 'a', 'Host', 'b'], info), null);
  });
  test('Expect is not forwarded; a repeated Content-Length is sent once', () => {
    const out = buildUpstreamHeaders(['Expect', '100-continue', 'Content-Length', '5', 'content-length', '5'], info)!;
    assert.deepEqual(get(out, 'expect'), []);
    assert.deepEqual(get(out, 'content-length'), ['5']);
  });
});
