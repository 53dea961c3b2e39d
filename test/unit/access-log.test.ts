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
    req: { method: 'GET' },
    path: '/a"b\\c\u0001\u2028',
    route: { id: 'api' },
    group: { name: 'backend' },
    endpoint: { address: '127.0.0.1:9000' },
    status: 200,
    bytes: 12,
    tries: 1,
    clientIp: '::1',
    error: null,
    elapsed: () => 1.23456,
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
    [obj.method, obj.route, obj.upstream, obj.endpoint, obj.status, obj.duration_ms, obj.bytes, obj.tries, obj.client_ip, obj.error],
    ['GET', 'api', 'backend', '127.0.0.1:9000', 200, 1.235, 12, 1, '::1', null],
  );
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
