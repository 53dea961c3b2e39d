import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { TracingConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/observability/logger.js';
import { exporterUrl, Tracing, type RequestTraceInfo } from '../../src/observability/tracing.js';
import {
  SPAN_KIND_CLIENT,
  SPAN_KIND_SERVER,
  STATUS_ERROR,
  startOtlpReceiver,
  startZipkinReceiver,
  type ReceivedSpan,
  type SpanReceiver,
} from '../helpers/otlp-receiver.js';

function config(overrides: Partial<TracingConfig> & Pick<TracingConfig, 'endpoint'>): TracingConfig {
  return {
    provider: 'otlp',
    service_name: 'loom-test',
    protocol: 'grpc',
    headers: {},
    ratio: 1,
    parent_based: true,
    batch_timeout: 50,
    ...overrides,
  };
}

function info(requestId: string, overrides: Partial<RequestTraceInfo> = {}): RequestTraceInfo {
  return {
    method: 'GET',
    path: '/users/42',
    host: 'api.example.com:8443',
    scheme: 'http',
    clientIp: '10.1.2.3',
    userAgent: 'test-agent/1.0',
    requestId,
    ...overrides,
  };
}

const hexId = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Values of every header named `name` (any case) in a flat list. */
function headerValues(headers: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === name) values.push(headers[i + 1]);
  return values;
}

function withoutTraceHeaders(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i].toLowerCase();
    if (n !== 'traceparent' && n !== 'tracestate') out.push(headers[i], headers[i + 1]);
  }
  return out;
}

/** Zipkin carries every tag as a string; OTLP keeps the types. */
function assertAttributes(span: ReceivedSpan, expected: Record<string, string | number | boolean>, stringly: boolean): void {
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(span.attributes[key], stringly ? String(value) : value, `${span.name}: attribute ${key}`);
  }
}

function spansOf(spans: readonly ReceivedSpan[], traceId: string, kind: number): ReceivedSpan[] {
  return spans.filter((s) => s.traceId === traceId && s.kind === kind);
}

const RECEIVERS: ReadonlyArray<{
  readonly label: string;
  readonly provider: TracingConfig['provider'];
  readonly protocol: TracingConfig['protocol'];
  readonly start: () => Promise<SpanReceiver>;
}> = [
  { label: 'otlp grpc', provider: 'otlp', protocol: 'grpc', start: () => startOtlpReceiver('grpc') },
  { label: 'otlp http/protobuf', provider: 'otlp', protocol: 'http/protobuf', start: () => startOtlpReceiver('http/protobuf') },
  { label: 'jaeger (otlp grpc)', provider: 'jaeger', protocol: 'grpc', start: () => startOtlpReceiver('grpc') },
  { label: 'zipkin', provider: 'zipkin', protocol: 'grpc', start: () => startZipkinReceiver() },
];

for (const r of RECEIVERS) {
  test(`${r.label}: SERVER and CLIENT spans reach a real receiver, parented on the client's traceparent`, async () => {
    const receiver = await r.start();
    const tracing = Tracing.create(
      config({ provider: r.provider, protocol: r.protocol, endpoint: receiver.endpoint, headers: { 'x-api-key': 'secret-1' } }),
      silentLogger(),
    );
    try {
      const traceId = hexId(16);
      const clientSpanId = hexId(8);
      const req = tracing.startRequest(
        { traceparent: `00-${traceId}-${clientSpanId}-01`, tracestate: 'vendor=abc', baggage: 'user=alice', host: 'api.example.com:8443' },
        info('req-1'),
      );
      assert.equal(req.traceId, traceId);
      assert.equal(req.sampled, true);
      req.setRoute('users', '/users/{id}', 'users-svc');
      const attempt = req.startTry('users-svc', '127.0.0.1', 9001, 'GET', '/users/42?verbose=1', 0);

      const input = Object.freeze([
        'Host', 'api.example.com:8443',
        'TraceParent', `00-${hexId(16)}-${hexId(8)}-01`,
        'TRACESTATE', 'stale=1',
        'baggage', 'user=alice',
        'x-request-id', 'req-1',
      ]);
      const before = [...input];
      const out = attempt.inject(input);
      assert.notEqual(out, input);
      assert.deepEqual([...input], before, 'the shared input list is not mutated');
      assert.deepEqual(withoutTraceHeaders(out), withoutTraceHeaders(input), 'other headers are kept, in order');
      assert.deepEqual(headerValues(out, 'baggage'), ['user=alice'], "the client's baggage is kept once");
      const traceparents = headerValues(out, 'traceparent');
      assert.equal(traceparents.length, 1, 'exactly one traceparent');
      const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparents[0]);
      assert.ok(m, `traceparent ${traceparents[0]}`);
      assert.equal(m[1], traceId, 'the incoming trace id is kept');
      const trySpanId = m[2];
      assert.notEqual(trySpanId, clientSpanId, 'a new parent span id');
      assert.deepEqual(headerValues(out, 'tracestate'), ['vendor=abc'], "the client's tracestate, not the stale one");

      attempt.end(200);
      attempt.end(500, 'LOOM_ERR_INTERNAL'); // idempotent: ignored
      req.end(200);
      req.end(502, 'LOOM_ERR_UPSTREAM_CONNECT'); // idempotent: ignored
      await tracing.forceFlush();
      const spans = await receiver.waitForSpans(
        (all) => spansOf(all, traceId, SPAN_KIND_SERVER).length > 0 && spansOf(all, traceId, SPAN_KIND_CLIENT).length > 0,
      );
      const stringly = r.provider === 'zipkin';
      assert.equal(spans.filter((s) => s.traceId === traceId).length, 2, 'one server and one client span');
      const [server] = spansOf(spans, traceId, SPAN_KIND_SERVER);
      const [client] = spansOf(spans, traceId, SPAN_KIND_CLIENT);

      assert.equal(server.parentSpanId, clientSpanId, 'SERVER span is a child of the incoming span');
      assert.equal(server.name, 'GET /users/{id}');
      assert.equal(server.statusCode, 0);
      assertAttributes(
        server,
        {
          'loom.request_id': 'req-1',
          'loom.route_id': 'users',
          'loom.upstream': 'users-svc',
          'http.route': '/users/{id}',
          'http.request.method': 'GET',
          'http.response.status_code': 200,
          'url.path': '/users/42',
          'url.scheme': 'http',
          'server.address': 'api.example.com',
          'server.port': 8443,
          'client.address': '10.1.2.3',
          'user_agent.original': 'test-agent/1.0',
        },
        stringly,
      );
      assert.equal(server.attributes['error.type'], undefined);

      assert.equal(client.parentSpanId, server.spanId, 'CLIENT span is a child of the SERVER span');
      assert.equal(client.spanId, trySpanId, "the injected traceparent names the try's span");
      assert.equal(client.name, 'GET');
      assert.equal(client.statusCode, 0);
      assertAttributes(
        client,
        {
          'server.address': '127.0.0.1',
          'server.port': 9001,
          'http.request.method': 'GET',
          'http.response.status_code': 200,
          'url.full': 'http://127.0.0.1:9001/users/42?verbose=1',
          'loom.upstream': 'users-svc',
        },
        stringly,
      );
      assert.equal(client.attributes['http.request.resend_count'], undefined, 'first try: no resend count');
      assert.ok(client.startTimeUnixNano >= server.startTimeUnixNano && client.endTimeUnixNano <= server.endTimeUnixNano);

      for (const s of [server, client]) assert.equal(s.resource['service.name'], 'loom-test');
      if (!stringly) assert.equal(server.traceState, 'vendor=abc');
      assert.ok(
        receiver.exportHeaders.some((h) => h['x-api-key'] === 'secret-1'),
        `configured headers reach the collector: ${JSON.stringify(receiver.exportHeaders)}`,
      );
    } finally {
      await tracing.shutdown();
      await receiver.close();
    }
  });
}

test('ratio 0 with parent_based: new traces are not exported but still propagate; a sampled parent is followed', async () => {
  const receiver = await startOtlpReceiver('http/protobuf');
  const tracing = Tracing.create(config({ protocol: 'http/protobuf', endpoint: receiver.endpoint, ratio: 0 }), silentLogger());
  try {
    // No traceparent: a fresh random trace, not sampled.
    const fresh = tracing.startRequest({}, info('req-fresh'));
    assert.equal(fresh.sampled, false);
    assert.match(fresh.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(fresh.traceId, '0'.repeat(32));
    fresh.setRoute('users', '/users/{id}', 'users-svc');
    const freshTry = fresh.startTry('users-svc', '127.0.0.1', 9001, 'GET', '/users/42', 0);
    const freshOut = freshTry.inject(['host', 'api.example.com']);
    assert.deepEqual(headerValues(freshOut, 'traceparent').length, 1);
    assert.match(headerValues(freshOut, 'traceparent')[0], new RegExp(`^00-${fresh.traceId}-[0-9a-f]{16}-00$`));
    assert.deepEqual(headerValues(freshOut, 'baggage'), [], 'no baggage was sent, none is added');
    freshTry.end(200);
    fresh.end(200);

    // Incoming traceparent, not sampled (00): followed, the trace id is kept.
    const unsampledId = hexId(16);
    const unsampledParent = hexId(8);
    const unsampled = tracing.startRequest({ traceparent: `00-${unsampledId}-${unsampledParent}-00` }, info('req-00'));
    assert.equal(unsampled.sampled, false);
    assert.equal(unsampled.traceId, unsampledId);
    const unsampledTry = unsampled.startTry('users-svc', '127.0.0.1', 9001, 'GET', '/users/42', 0);
    const tp = headerValues(unsampledTry.inject(['traceparent', 'garbage']), 'traceparent');
    assert.equal(tp.length, 1);
    const m = new RegExp(`^00-${unsampledId}-([0-9a-f]{16})-00$`).exec(tp[0]);
    assert.ok(m, tp[0]);
    assert.notEqual(m[1], unsampledParent);
    unsampledTry.end(200);
    unsampled.end(200);

    // Incoming traceparent, sampled (01): exported despite ratio 0.
    const sampledId = hexId(16);
    const sampledParent = hexId(8);
    const sampled = tracing.startRequest({ traceparent: `00-${sampledId}-${sampledParent}-01` }, info('req-01'));
    assert.equal(sampled.sampled, true);
    const sampledTry = sampled.startTry('users-svc', '127.0.0.1', 9001, 'GET', '/users/42', 0);
    assert.match(headerValues(sampledTry.inject([]), 'traceparent')[0], new RegExp(`^00-${sampledId}-[0-9a-f]{16}-01$`));
    sampledTry.end(200);
    sampled.end(200);

    await tracing.forceFlush();
    const spans = await receiver.waitForSpans((all) => all.filter((s) => s.traceId === sampledId).length === 2);
    const server = spansOf(spans, sampledId, SPAN_KIND_SERVER)[0];
    assert.equal(server.parentSpanId, sampledParent);
    // The unsampled requests ended first; their spans never reach the processor.
    assert.deepEqual(
      spans.filter((s) => s.traceId !== sampledId).map((s) => s.traceId),
      [],
      'unsampled requests are not exported',
    );
  } finally {
    await tracing.shutdown();
    await receiver.close();
  }
});

test('parent_based false: the ratio decides whatever the incoming sampled flag says', async () => {
  const receiver = await startOtlpReceiver('grpc');
  const never = Tracing.create(config({ endpoint: receiver.endpoint, ratio: 0, parent_based: false }), silentLogger());
  const always = Tracing.create(config({ endpoint: receiver.endpoint, ratio: 1, parent_based: false }), silentLogger());
  try {
    const ignoredId = hexId(16);
    const ignored = never.startRequest({ traceparent: `00-${ignoredId}-${hexId(8)}-01` }, info('req-a'));
    assert.equal(ignored.sampled, false);
    assert.equal(ignored.traceId, ignoredId, 'the trace id is still propagated');
    ignored.end(200);

    const keptId = hexId(16);
    const keptParent = hexId(8);
    const kept = always.startRequest({ traceparent: `00-${keptId}-${keptParent}-00` }, info('req-b'));
    assert.equal(kept.sampled, true);
    kept.end(204);

    await never.forceFlush();
    await always.forceFlush();
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.traceId === keptId));
    assert.equal(spans.find((s) => s.traceId === keptId)?.parentSpanId, keptParent);
    assert.equal(spans.some((s) => s.traceId === ignoredId), false);
  } finally {
    await never.shutdown();
    await always.shutdown();
    await receiver.close();
  }
});

test('errors: an error code or a 5xx sets status ERROR and error.type; a 4xx does not; retries carry resend_count', async () => {
  const receiver = await startOtlpReceiver('grpc');
  const tracing = Tracing.create(config({ endpoint: receiver.endpoint }), silentLogger());
  try {
    const failed = tracing.startRequest({}, info('req-502', { method: 'POST', path: '/orders' }));
    failed.setRoute('orders', '/orders', 'orders-svc');
    const refused = failed.startTry('orders-svc', '::1', 9002, 'POST', '/orders', 0);
    refused.end(undefined, 'LOOM_ERR_UPSTREAM_CONNECT');
    const unavailable = failed.startTry('orders-svc', '127.0.0.1', 9003, 'POST', '/orders', 1);
    unavailable.end(503);
    const notFound = failed.startTry('orders-svc', '127.0.0.1', 9004, 'POST', '/orders', 2);
    notFound.end(404);
    failed.end(502, 'LOOM_ERR_UPSTREAM_CONNECT');

    const crashed = tracing.startRequest({}, info('req-500'));
    crashed.end(500);
    const missing = tracing.startRequest({}, info('req-404', { method: 'PURGE', host: undefined, userAgent: undefined }));
    missing.end(404, 'LOOM_ERR_ROUTE_NOT_FOUND');

    await tracing.forceFlush();
    const spans = await receiver.waitForSpans((all) => all.length === 6);
    const server = spansOf(spans, failed.traceId, SPAN_KIND_SERVER)[0];
    assert.equal(server.statusCode, STATUS_ERROR);
    assert.equal(server.attributes['error.type'], 'LOOM_ERR_UPSTREAM_CONNECT');
    assert.equal(server.attributes['http.response.status_code'], 502);
    assert.equal(server.name, 'POST /orders');

    const tries = spansOf(spans, failed.traceId, SPAN_KIND_CLIENT);
    const byPort = new Map(tries.map((s) => [s.attributes['server.port'], s]));
    const t0 = byPort.get(9002)!;
    assert.equal(t0.statusCode, STATUS_ERROR);
    assert.equal(t0.attributes['error.type'], 'LOOM_ERR_UPSTREAM_CONNECT');
    assert.equal(t0.attributes['http.response.status_code'], undefined, 'no response, no status code');
    assert.equal(t0.attributes['url.full'], 'http://[::1]:9002/orders');
    assert.equal(t0.attributes['http.request.resend_count'], undefined);
    const t1 = byPort.get(9003)!;
    assert.equal(t1.statusCode, STATUS_ERROR);
    assert.equal(t1.attributes['error.type'], '503');
    assert.equal(t1.attributes['http.request.resend_count'], 1);
    const t2 = byPort.get(9004)!;
    assert.equal(t2.statusCode, 0, 'a 4xx try is not an error (see TryTrace.end)');
    assert.equal(t2.attributes['error.type'], undefined);
    assert.equal(t2.attributes['http.response.status_code'], 404);
    assert.equal(t2.attributes['http.request.resend_count'], 2);
    for (const t of tries) assert.equal(t.parentSpanId, server.spanId);

    const s500 = spansOf(spans, crashed.traceId, SPAN_KIND_SERVER)[0];
    assert.equal(s500.statusCode, STATUS_ERROR);
    assert.equal(s500.attributes['error.type'], '500');
    assert.equal(s500.parentSpanId, '', 'a new trace: root span');

    const s404 = spansOf(spans, missing.traceId, SPAN_KIND_SERVER)[0];
    assert.equal(s404.statusCode, 0, 'a 4xx is not a server error, even when Loom answered it');
    assert.equal(s404.attributes['error.type'], undefined);
    assert.equal(s404.name, 'HTTP', 'an unknown method is named HTTP');
    assert.equal(s404.attributes['http.request.method'], '_OTHER');
    assert.equal(s404.attributes['http.request.method_original'], 'PURGE');
    assert.equal(s404.attributes['server.address'], undefined);
    assert.equal(s404.attributes['user_agent.original'], undefined);
  } finally {
    await tracing.shutdown();
    await receiver.close();
  }
});

test("inject adds the client's baggage only when the outgoing headers lack one", async () => {
  const receiver = await startOtlpReceiver('http/protobuf');
  const tracing = Tracing.create(config({ protocol: 'http/protobuf', endpoint: receiver.endpoint }), silentLogger());
  try {
    const req = tracing.startRequest({ baggage: 'user=alice,tier=gold' }, info('req-bag'));
    const attempt = req.startTry('users-svc', '127.0.0.1', 9001, 'GET', '/users/42', 0);
    const added = attempt.inject(['host', 'h']);
    assert.equal(headerValues(added, 'baggage').length, 1);
    assert.deepEqual(headerValues(added, 'baggage')[0].split(',').sort(), ['tier=gold', 'user=alice']);
    const kept = attempt.inject(['Baggage', 'user=bob', 'host', 'h']);
    assert.deepEqual(headerValues(kept, 'baggage'), ['user=bob'], 'a baggage header already there wins');
    assert.equal(kept[0], 'Baggage');
    assert.equal(headerValues(kept, 'traceparent').length, 1);
    attempt.end(200);
    req.end(200);
  } finally {
    await tracing.shutdown();
    await receiver.close();
  }
});

test('export failures are logged (rate-limited) and never reject', async () => {
  // A collector that refuses everything with 400 (not retryable: the export fails at once).
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const tracing = Tracing.create(config({ protocol: 'http/protobuf', endpoint: `127.0.0.1:${port}` }), logger);
  try {
    for (let i = 0; i < 2; i++) {
      const req = tracing.startRequest({}, info(`req-fail-${i}`));
      req.end(200);
      await tracing.forceFlush();
    }
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; exporter: string });
    assert.equal(warnings.length, 1, `one warning per interval: ${lines.join('')}`);
    assert.equal(warnings[0].level, 40);
    assert.match(warnings[0].msg, /span export failed/);
    assert.equal(warnings[0].exporter, `otlp http/protobuf http://127.0.0.1:${port}/v1/traces`);
  } finally {
    await tracing.shutdown();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('exporterUrl: host:port becomes a URL per protocol; URLs are used as is', () => {
  assert.equal(exporterUrl({ provider: 'otlp', protocol: 'grpc', endpoint: 'collector:4317' }), 'http://collector:4317');
  assert.equal(exporterUrl({ provider: 'jaeger', protocol: 'grpc', endpoint: 'jaeger:4317' }), 'http://jaeger:4317');
  assert.equal(exporterUrl({ provider: 'otlp', protocol: 'http/protobuf', endpoint: 'collector:4318' }), 'http://collector:4318/v1/traces');
  assert.equal(exporterUrl({ provider: 'otlp', protocol: 'grpc', endpoint: 'https://otel.example.com:443' }), 'https://otel.example.com:443');
  assert.equal(
    exporterUrl({ provider: 'otlp', protocol: 'http/protobuf', endpoint: 'https://otel.example.com/custom/traces' }),
    'https://otel.example.com/custom/traces',
  );
  assert.equal(exporterUrl({ provider: 'zipkin', protocol: 'grpc', endpoint: 'http://zipkin:9411/api/v2/spans' }), 'http://zipkin:9411/api/v2/spans');
  assert.equal(exporterUrl({ provider: 'zipkin', protocol: 'grpc', endpoint: 'zipkin:9411' }), 'http://zipkin:9411/api/v2/spans');
});
