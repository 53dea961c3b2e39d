// OpenTelemetry tracing through a running gateway: a real OTLP receiver (gRPC and
// HTTP/protobuf) in this process gets a server span per request and a client span per
// upstream try; the upstream sees the W3C trace context and baggage; the access log
// carries the trace id.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, configWith } from '../helpers/gateway.js';
import { startUpstream, closedPort } from '../helpers/upstream.js';
import { send } from '../helpers/http-client.js';
import { startOtlpReceiver, SPAN_KIND_CLIENT, SPAN_KIND_SERVER, STATUS_ERROR, type ReceivedSpan } from '../helpers/otlp-receiver.js';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

for (const protocol of ['grpc', 'http/protobuf'] as const) {
  describe(`tracing over OTLP ${protocol}`, () => {
    test('server span from the client context, one client span per try, context and baggage sent upstream', async () => {
      const receiver = await startOtlpReceiver(protocol);
      const up = await startUpstream('up');
      const dead = await closedPort();
      const g = await startGateway(
        configWith(`
routes:
  - { id: users, path: "/users/{id}", upstream: u }
upstreams:
  - name: u
    endpoints: ["127.0.0.1:${dead}", "${up.address}"]
    retry: { max_retries: 1, backoff_base: 1ms, backoff_max: 1ms }
tracing:
  enabled: true
  service_name: edge-test
  batch_timeout: 20ms
  otlp:
    endpoint: "${receiver.endpoint}"
    protocol: ${protocol}
`),
      );
      try {
        // Two requests: round robin over [dead, live] makes at least one of them fail over.
        const responses = [];
        for (let i = 0; i < 2; i++) {
          responses.push(
            await send(g.port, `/users/${i}?x=1`, {
              headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=1', baggage: 'tenant=acme', 'x-request-id': `req-${i}` },
            }),
          );
        }
        for (const r of responses) assert.equal(r.status, 200);
        // The upstream got the client's trace, with Loom's try span as the parent, and the baggage.
        assert.equal(up.seen.length, 2);
        for (const seen of up.seen) {
          const m = TRACEPARENT.exec(String(seen.headers.traceparent));
          assert.ok(m, String(seen.headers.traceparent));
          assert.equal(m[1], CLIENT_TRACE);
          assert.notEqual(m[2], CLIENT_SPAN);
          assert.equal(m[3], '01');
          assert.equal(seen.headers.baggage, 'tenant=acme');
          assert.equal(seen.headers.tracestate, 'vendor=1');
        }
        // A failed try ends before its retry starts, so once both successful tries are in, every span is.
        const spans = await receiver.waitForSpans(
          (s) => s.filter((x) => x.kind === SPAN_KIND_SERVER).length === 2 && s.filter((x) => x.kind === SPAN_KIND_CLIENT && x.statusCode !== STATUS_ERROR).length === 2,
        );
        const servers = spans.filter((s) => s.kind === SPAN_KIND_SERVER);
        const clients = spans.filter((s) => s.kind === SPAN_KIND_CLIENT);
        for (const server of servers) {
          assert.equal(server.traceId, CLIENT_TRACE);
          assert.equal(server.parentSpanId, CLIENT_SPAN);
          assert.equal(server.name, 'GET /users/{id}');
          assert.equal(server.attributes['http.route'], '/users/{id}');
          assert.equal(server.attributes['loom.route_id'], 'users');
          assert.equal(server.attributes['loom.upstream'], 'u');
          assert.equal(server.attributes['http.response.status_code'], 200);
          assert.match(String(server.attributes['loom.request_id']), /^req-[01]$/);
          assert.equal(server.resource['service.name'], 'edge-test');
        }
        // Every client span hangs under a server span of the same trace; the failed try is an error.
        const serverIds = new Set(servers.map((s) => s.spanId));
        for (const c of clients) {
          assert.ok(serverIds.has(c.parentSpanId));
          assert.equal(c.traceId, CLIENT_TRACE);
        }
        const failed = clients.filter((c) => c.statusCode === STATUS_ERROR);
        assert.ok(failed.length >= 1);
        assert.equal(clients.length, 2 + failed.length);
        for (const f of failed) {
          assert.equal(f.attributes['server.port'], dead);
          assert.equal(f.attributes['error.type'], 'LOOM_ERR_UPSTREAM_CONNECT');
          const retried = clients.find((c: ReceivedSpan) => c.parentSpanId === f.parentSpanId && c.attributes['http.request.resend_count'] === 1);
          assert.ok(retried, 'the retry hangs under the same server span and carries http.request.resend_count');
          assert.equal(retried.attributes['server.port'], up.port);
        }
        // The ids the upstream saw are the client spans that succeeded.
        const okTries = new Set(clients.filter((c) => c.statusCode !== STATUS_ERROR).map((c) => c.spanId));
        for (const seen of up.seen) assert.ok(okTries.has(TRACEPARENT.exec(String(seen.headers.traceparent))![2]));
        // The access log names the trace.
        const lines = g.logs.filter((l) => l.msg === 'request');
        assert.equal(lines.length, 2);
        for (const l of lines) assert.equal(l.trace_id, CLIENT_TRACE);
      } finally {
        await g.stop();
        await Promise.all([up.close(), receiver.close()]);
      }
    });
  });
}

describe('tracing sampling and propagation', () => {
  test('unsampled new traces export nothing but still propagate a traceparent; a sampled parent is followed', async () => {
    const receiver = await startOtlpReceiver('http/protobuf');
    const up = await startUpstream('up');
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
tracing:
  enabled: true
  batch_timeout: 20ms
  otlp: { endpoint: "${receiver.endpoint}", protocol: http/protobuf }
  sampling: { type: ratio, ratio: 0 }
`),
    );
    try {
      assert.equal((await send(g.port, '/unsampled')).status, 200);
      const m = TRACEPARENT.exec(String(up.seen[0].headers.traceparent));
      assert.ok(m);
      assert.equal(m[3], '00');
      assert.equal(up.seen[0].headers.baggage, undefined);
      assert.equal((await send(g.port, '/sampled', { headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` } })).status, 200);
      const spans = await receiver.waitForSpans((s) => s.length >= 2);
      // Only the request whose parent was sampled is exported (both its spans).
      assert.deepEqual(new Set(spans.map((s) => s.traceId)), new Set([CLIENT_TRACE]));
      assert.equal(spans.length, 2);
      assert.notEqual(m[1], CLIENT_TRACE);
    } finally {
      await g.stop();
      await Promise.all([up.close(), receiver.close()]);
    }
  });

  test('tracing off: the client\'s trace headers pass through untouched and the access log has no trace_id', async () => {
    const up = await startUpstream('up');
    const g = await startGateway(
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
`),
    );
    try {
      const traceparent = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
      assert.equal((await send(g.port, '/a', { headers: { traceparent, baggage: 'k=v' } })).status, 200);
      assert.equal(up.seen[0].headers.traceparent, traceparent);
      assert.equal(up.seen[0].headers.baggage, 'k=v');
      const line = await g.waitForLog((l) => l.msg === 'request');
      assert.equal('trace_id' in line, false);
    } finally {
      await g.stop();
      await up.close();
    }
  });

  test('a reload that changes the tracing settings sends new spans to the new receiver', async () => {
    const first = await startOtlpReceiver('http/protobuf');
    const second = await startOtlpReceiver('http/protobuf');
    const up = await startUpstream('up');
    const yaml = (endpoint: string) =>
      configWith(`
routes:
  - { id: r, path: /*, upstream: u }
upstreams:
  - name: u
    endpoints: ["${up.address}"]
admin:
  address: "127.0.0.1:0"
tracing:
  enabled: true
  batch_timeout: 20ms
  otlp: { endpoint: "${endpoint}", protocol: http/protobuf }
`);
    const g = await startGateway(yaml(first.endpoint));
    try {
      assert.equal((await send(g.port, '/one')).status, 200);
      await first.waitForSpans((s) => s.length >= 2);
      const { loadConfigText } = await import('../../src/config/load.js');
      const next = loadConfigText(yaml(second.endpoint), 'test.yaml', {});
      assert.ok(next.ok);
      await g.gateway.reload(next.config);
      assert.equal((await send(g.port, '/two')).status, 200);
      const spans = await second.waitForSpans((s) => s.length >= 2);
      assert.ok(spans.every((s) => s.attributes['url.path'] === '/two' || s.kind === SPAN_KIND_CLIENT));
      assert.equal(first.spans.length, 2, 'the old exporter got only the first request');
    } finally {
      await g.stop();
      await Promise.all([up.close(), first.close(), second.close()]);
    }
  });
});
