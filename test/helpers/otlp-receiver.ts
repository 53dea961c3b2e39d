// Real trace receivers in the test process, on 127.0.0.1 port 0:
//   - OTLP/gRPC: a @grpc/grpc-js Server serving TraceService/Export with identity (Buffer)
//     serialisers, so no .proto file is needed; the request is decoded by hand.
//   - OTLP/HTTP: POST /v1/traces, `application/x-protobuf` (gzip accepted).
//   - Zipkin: POST /api/v2/spans, Zipkin v2 JSON.
// Every span is mapped to one ReceivedSpan shape. A receiver records spans before it
// answers, so once an export has succeeded its spans are in `spans`. `waitForSpans`
// resolves on arrival (no polling).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import grpc from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';
import { decodeMessage, double, fixed64, hex, int64, utf8, WIRE_FIXED64 } from './protobuf-wire.js';

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  /** 32 hex chars. */
  readonly traceId: string;
  /** 16 hex chars. */
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  /** W3C tracestate; '' when none (always '' from Zipkin). */
  readonly traceState: string;
  readonly name: string;
  /** OTLP SpanKind: 1 INTERNAL, 2 SERVER, 3 CLIENT, 4 PRODUCER, 5 CONSUMER (0 unspecified). */
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  /** Zipkin: every tag as a string (resource attributes and otel.status_code included). */
  readonly attributes: Record<string, AttributeValue>;
  /** OTLP StatusCode: 0 UNSET, 1 OK, 2 ERROR. */
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Zipkin: only `service.name` (from localEndpoint.serviceName). */
  readonly resource: Record<string, AttributeValue>;
}

export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;
export const STATUS_ERROR = 2;

export interface SpanReceiver {
  /** gRPC: `127.0.0.1:PORT`; HTTP: the full URL (`http://127.0.0.1:PORT/v1/traces`, `…/api/v2/spans`). */
  readonly endpoint: string;
  /** Every span received so far, in arrival order. */
  readonly spans: ReceivedSpan[];
  /** Headers (gRPC: metadata) of every export request, names lower-case. */
  readonly exportHeaders: Record<string, string>[];
  /**
   * Resolves with a copy of `spans` as soon as `predicate(spans)` holds (checked now and on
   * every export); rejects after `timeoutMs` (default 10 s) listing what did arrive, or
   * when a request cannot be decoded.
   */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface Waiter {
  readonly predicate: (spans: ReceivedSpan[]) => boolean;
  readonly resolve: (spans: ReceivedSpan[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

class SpanCollector {
  readonly spans: ReceivedSpan[] = [];
  readonly exportHeaders: Record<string, string>[] = [];
  private readonly waiters = new Set<Waiter>();

  add(spans: readonly ReceivedSpan[], headers: Record<string, string>): void {
    this.spans.push(...spans);
    this.exportHeaders.push(headers);
    for (const w of [...this.waiters]) this.check(w);
  }

  /** A request that could not be decoded fails every pending wait. */
  fail(error: Error): void {
    for (const w of [...this.waiters]) this.settle(w, error);
  }

  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const got = this.spans.map((s) => `${s.name} (kind ${s.kind}, trace ${s.traceId})`).join(', ') || 'none';
        this.settle(waiter, new Error(`no matching spans within ${timeoutMs} ms; received: ${got}`));
      }, timeoutMs);
      const waiter: Waiter = { predicate, resolve, reject, timer };
      this.waiters.add(waiter);
      this.check(waiter);
    });
  }

  private check(w: Waiter): void {
    try {
      if (w.predicate(this.spans)) this.settle(w, null);
    } catch (error) {
      this.settle(w, error instanceof Error ? error : new Error(String(error)));
    }
  }

  private settle(w: Waiter, error: Error | null): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    if (error === null) w.resolve([...this.spans]);
    else w.reject(error);
  }
}

// --- OTLP protobuf → ReceivedSpan ---

function decodeAnyValue(data: Buffer): AttributeValue | undefined {
  let value: AttributeValue | undefined;
  for (const f of decodeMessage(data)) {
    if (f.field === 1) value = utf8(f);
    else if (f.field === 2) value = f.varint !== 0n;
    else if (f.field === 3) value = int64(f);
    else if (f.field === 4 && f.wireType === WIRE_FIXED64) value = double(f);
    // array_value(5), kvlist_value(6), bytes_value(7): not used by the gateway
  }
  return value;
}

function decodeAttribute(data: Buffer, into: Record<string, AttributeValue>): void {
  let key = '';
  let value: AttributeValue | undefined;
  for (const f of decodeMessage(data)) {
    if (f.field === 1) key = utf8(f);
    else if (f.field === 2) value = decodeAnyValue(f.bytes);
  }
  if (value !== undefined) into[key] = value;
}

function decodeSpan(data: Buffer, resource: Record<string, AttributeValue>): ReceivedSpan {
  let traceId = '';
  let spanId = '';
  let parentSpanId = '';
  let traceState = '';
  let name = '';
  let kind = 0;
  let startTimeUnixNano = 0n;
  let endTimeUnixNano = 0n;
  const attributes: Record<string, AttributeValue> = {};
  let statusCode = 0;
  let statusMessage = '';
  for (const f of decodeMessage(data)) {
    switch (f.field) {
      case 1: traceId = hex(f); break;
      case 2: spanId = hex(f); break;
      case 3: traceState = utf8(f); break;
      case 4: parentSpanId = hex(f); break;
      case 5: name = utf8(f); break;
      case 6: kind = Number(f.varint); break;
      case 7: startTimeUnixNano = fixed64(f); break;
      case 8: endTimeUnixNano = fixed64(f); break;
      case 9: decodeAttribute(f.bytes, attributes); break;
      case 15:
        for (const s of decodeMessage(f.bytes)) {
          if (s.field === 2) statusMessage = utf8(s);
          else if (s.field === 3) statusCode = Number(s.varint);
        }
        break;
      default: // events(11), links(13), flags(16), dropped counts: not needed
    }
  }
  return { traceId, spanId, parentSpanId, traceState, name, kind, startTimeUnixNano, endTimeUnixNano, attributes, statusCode, statusMessage, resource };
}

/** ExportTraceServiceRequest → spans, each with its ResourceSpans' resource attributes. */
export function decodeExportTraceRequest(data: Uint8Array): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of decodeMessage(data)) {
    if (rs.field !== 1) continue;
    const fields = decodeMessage(rs.bytes);
    const resource: Record<string, AttributeValue> = {};
    for (const f of fields) {
      if (f.field !== 1) continue;
      for (const a of decodeMessage(f.bytes)) if (a.field === 1) decodeAttribute(a.bytes, resource);
    }
    for (const f of fields) {
      if (f.field !== 2) continue; // scope_spans
      for (const s of decodeMessage(f.bytes)) if (s.field === 2) spans.push(decodeSpan(s.bytes, resource));
    }
  }
  return spans;
}

// --- Zipkin v2 JSON → ReceivedSpan ---

const ZIPKIN_KINDS: Record<string, number> = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const STATUS_CODES: Record<string, number> = { UNSET: 0, OK: 1, ERROR: 2 };

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

export function decodeZipkinSpans(body: string): ReceivedSpan[] {
  const parsed: unknown = JSON.parse(body);
  if (!Array.isArray(parsed)) throw new Error('zipkin: the body is not a JSON array');
  return (parsed as ZipkinSpan[]).map((z) => {
    const tags = z.tags ?? {};
    const start = BigInt(Math.round(z.timestamp ?? 0)) * 1000n;
    const resource: Record<string, AttributeValue> = {};
    if (z.localEndpoint?.serviceName !== undefined) resource['service.name'] = z.localEndpoint.serviceName;
    return {
      traceId: z.traceId,
      spanId: z.id,
      parentSpanId: z.parentId ?? '',
      traceState: '',
      name: z.name ?? '',
      kind: z.kind === undefined ? 1 : (ZIPKIN_KINDS[z.kind] ?? 0),
      startTimeUnixNano: start,
      endTimeUnixNano: start + BigInt(Math.round(z.duration ?? 0)) * 1000n,
      attributes: { ...tags },
      statusCode: STATUS_CODES[tags['otel.status_code'] ?? 'UNSET'] ?? 0,
      statusMessage: tags.error ?? '',
      resource,
    };
  });
}

// --- servers ---

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** One HTTP receiver: `decode` turns a POST body on `path` into spans. */
async function startHttpReceiver(
  path: string,
  contentType: string,
  decode: (body: Buffer) => ReceivedSpan[],
  endpointOf: (port: number) => string,
): Promise<SpanReceiver> {
  const collector = new SpanCollector();
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    if (req.method !== 'POST' || req.url !== path) {
      res.writeHead(404).end();
      return;
    }
    if (!(req.headers['content-type'] ?? '').startsWith(contentType)) {
      res.writeHead(415).end();
      return;
    }
    let spans: ReceivedSpan[];
    try {
      spans = decode(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
    } catch (error) {
      res.writeHead(400).end();
      collector.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    collector.add(spans, flatHeaders(req));
    res.writeHead(200, { 'content-type': contentType, 'content-length': 0 }).end();
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: endpointOf(port),
    spans: collector.spans,
    exportHeaders: collector.exportHeaders,
    waitForSpans: (predicate, timeoutMs) => collector.waitForSpans(predicate, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The exporters keep their connections alive.
        server.closeAllConnections();
      }),
  };
}

const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

async function startGrpcReceiver(): Promise<SpanReceiver> {
  const collector = new SpanCollector();
  const identity = (b: Buffer): Buffer => b;
  const service: ServiceDefinition = {
    Export: {
      path: TRACE_EXPORT_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  const server = new grpc.Server();
  server.addService(service, {
    Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      let spans: ReceivedSpan[];
      try {
        spans = decodeExportTraceRequest(call.request);
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        collector.fail(err);
        callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
        return;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(call.metadata.getMap())) headers[name] = String(value);
      collector.add(spans, headers);
      callback(null, Buffer.alloc(0)); // an empty ExportTraceServiceResponse
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    endpoint: `127.0.0.1:${port}`,
    spans: collector.spans,
    exportHeaders: collector.exportHeaders,
    waitForSpans: (predicate, timeoutMs) => collector.waitForSpans(predicate, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        // Graceful first (lets an export in flight finish); forced if a client holds on.
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

export function startOtlpReceiver(protocol: 'grpc' | 'http/protobuf'): Promise<SpanReceiver> {
  if (protocol === 'grpc') return startGrpcReceiver();
  return startHttpReceiver('/v1/traces', 'application/x-protobuf', decodeExportTraceRequest, (port) => `http://127.0.0.1:${port}/v1/traces`);
}

export function startZipkinReceiver(): Promise<SpanReceiver> {
  return startHttpReceiver('/api/v2/spans', 'application/json', (body) => decodeZipkinSpans(body.toString('utf8')), (port) => `http://127.0.0.1:${port}/api/v2/spans`);
}
