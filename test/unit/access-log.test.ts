// The hand-written access-log line is valid JSON in pino's shape, whatever the request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { AccessLog, jsonString } from '../../src/observability/access-log.js';
import type { ProxyExchange } from '../../src/proxy/proxy-exchange.js';

function capture(level = 'info') {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: pino({ level, base: { service: 'loom' } }, sink) };
}

const exchange = (over: Partial<Record<string, unknown>>): ProxyExchange =>
  ({
    requestId: 'id-"1"\\',
    req: { method: 'GET', url: '/a?b=1', httpVersion: '1.1', headers: { host: 'example.com', 'user-agent': 'curl/8 "x"', referer: 'https://r.example/' } },
    trace: null,
    path: '/a"b\\c\u0001\u2028',
    route: { id: 'api' },
    group: { name: 'backend' },
    endpoint: { address: '127.0.0.1:9000' },
    status: 200,
    bytes: 12,
    tries: 1,
    clientIp: '::1',
    error: null,
    durationMs: 1.23456,
    ...over,
  }) as unknown as ProxyExchange;

test('a line parses as JSON and carries every field, escaped', () => {
  const { lines, logger } = capture();
  new AccessLog(logger).onExchangeEnd(exchange({}));
  assert.equal(lines.length, 1);
  assert.ok(lines[0].endsWith('\n'));
  const obj = JSON.parse(lines[0]);
  assert.equal(obj.level, 30);
  assert.equal(obj.service, 'loom');
  assert.equal(obj.msg, 'request');
  assert.ok(!Number.isNaN(Date.parse(obj.time)));
  assert.equal(obj.request_id, 'id-"1"\\');
  assert.equal(obj.path, '/a"b\\c\u0001\u2028');
  assert.deepEqual(
    [obj.method, obj.host, obj.route, obj.upstream, obj.endpoint, obj.status, obj.duration_ms, obj.bytes, obj.tries, obj.client_ip, obj.user_agent, obj.error],
    ['GET', 'example.com', 'api', 'backend', '127.0.0.1:9000', 200, 1.235, 12, 1, '::1', 'curl/8 "x"', null],
  );
  assert.equal('trace_id' in obj, false, 'no trace_id without tracing');
});

test('nulls for what did not happen; nothing below info level', () => {
  const { lines, logger } = capture();
  new AccessLog(logger).onExchangeEnd(exchange({ route: null, group: null, endpoint: null, tries: 0, status: 404, error: { code: 'LOOM_ERR_ROUTE_NOT_FOUND' } }));
  const obj = JSON.parse(lines[0]);
  assert.deepEqual([obj.route, obj.upstream, obj.endpoint, obj.error], [null, null, null, 'LOOM_ERR_ROUTE_NOT_FOUND']);
  const quiet = capture('warn');
  new AccessLog(quiet.logger).onExchangeEnd(exchange({}));
  assert.equal(quiet.lines.length, 0);
});

test('jsonString escapes only when needed', () => {
  for (const s of ['plain', 'q"uote', 'back\\slash', 'ctl\u0000', 'sep\u2029', 'ünï']) assert.equal(JSON.parse(jsonString(s)), s);
});

test('batching: lines are gathered up to batchBytes, then written together; flush writes the rest', () => {
  const { lines, logger } = capture();
  const log = new AccessLog(logger, { batchBytes: 800 });
  log.onExchangeEnd(exchange({}));
  assert.equal(lines.length, 0, 'held while under batchBytes');
  log.onExchangeEnd(exchange({}));
  log.onExchangeEnd(exchange({}));
  assert.equal(lines.length, 1, 'one write for the whole batch');
  assert.equal(lines[0].trimEnd().split('\n').length, 3);
  log.onExchangeEnd(exchange({ status: 204 }));
  log.flush();
  assert.equal(lines.length, 2);
  assert.equal(JSON.parse(lines[1]).status, 204);
  log.flush();
  assert.equal(lines.length, 2, 'nothing pending, nothing written');
});

test('trace_id is logged when the request is traced', () => {
  const { lines, logger } = capture();
  new AccessLog(logger).onExchangeEnd(exchange({ trace: { traceId: '0af7651916cd43dd8448eb211c80319c' } }));
  assert.equal(JSON.parse(lines[0]).trace_id, '0af7651916cd43dd8448eb211c80319c');
});

test('combined format: the Apache/nginx combined line, then Loom fields as key=value', () => {
  const { lines, logger } = capture();
  const log = new AccessLog(logger);
  log.configure({ enabled: true, format: 'combined', sample_ratio: 1, always_log_errors: true });
  log.onExchangeEnd(exchange({ clientIp: '10.0.0.7', trace: { traceId: 'abc' } }));
  const line = lines[0];
  assert.ok(line.endsWith('\n'));
  const m = /^10\.0\.0\.7 - - \[(\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000)\] "GET \/a\?b=1 HTTP\/1\.1" 200 12 "https:\/\/r\.example\/" "curl\/8 \\x22x\\x22" (.*)$/.exec(line.trimEnd());
  assert.ok(m, line);
  assert.equal(m[2], 'request_id=id-\\x221\\x22\\x5c route=api upstream=backend endpoint=127.0.0.1:9000 duration_ms=1.235 tries=1 error=- trace_id=abc');
  lines.length = 0;
  log.onExchangeEnd(exchange({ route: null, group: null, endpoint: null, req: { method: 'GET', url: '/x', httpVersion: '1.0', headers: {} }, status: 404, error: { code: 'LOOM_ERR_ROUTE_NOT_FOUND', status: 404 } }));
  assert.match(lines[0], /"GET \/x HTTP\/1\.0" 404 12 "-" "-" request_id=\S+ route=- upstream=- endpoint=- duration_ms=1\.235 tries=1 error=LOOM_ERR_ROUTE_NOT_FOUND\n$/);
});

test('sampling: a share of requests by the random source; 5xx and upstream failures always, unless told otherwise', () => {
  const { lines, logger } = capture();
  const draws = [0.05, 0.5, 0.5, 0.5];
  const log = new AccessLog(logger, { random: () => draws.shift() ?? 0.99 });
  log.configure({ enabled: true, format: 'json', sample_ratio: 0.1, always_log_errors: true });
  log.onExchangeEnd(exchange({ status: 200 })); // 0.05 < 0.1: logged
  log.onExchangeEnd(exchange({ status: 200 })); // 0.5: skipped
  log.onExchangeEnd(exchange({ status: 502, error: { code: 'LOOM_ERR_CONNECT_REFUSED', status: 502 } })); // error: logged
  log.onExchangeEnd(exchange({ status: 499, error: { code: 'LOOM_ERR_CLIENT_ABORTED', status: 499 } })); // 4xx: skipped
  assert.deepEqual(lines.map((l) => JSON.parse(l).status), [200, 502]);
  log.configure({ enabled: true, format: 'json', sample_ratio: 0, always_log_errors: false });
  log.onExchangeEnd(exchange({ status: 503 }));
  log.configure({ enabled: false, format: 'json', sample_ratio: 1, always_log_errors: true });
  log.onExchangeEnd(exchange({ status: 503 }));
  assert.equal(lines.length, 2);
});
