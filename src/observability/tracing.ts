// OpenTelemetry tracing of the request path: one SERVER span per client request and one
// CLIENT span per upstream try, exported in batches over OTLP (gRPC or http/protobuf;
// `jaeger` is OTLP to Jaeger's OTLP port) or to Zipkin.
//
// Nothing is registered globally (tracer provider, propagator, context manager, diag
// logger): several gateways may run in one process, each with its own `Tracing`. Contexts
// are passed explicitly (ROOT_CONTEXT + trace.setSpan); W3C `traceparent`/`tracestate`
// and `baggage` are extracted from the client's headers and injected into each try's.
//
// Sampling: `ratio` of new traces (TraceIdRatioBased); with `parent_based` (default) an
// incoming `traceparent` decides instead (flag 01: sampled, 00: not). An unsampled
// request still gets a valid trace id (the client's or a fresh random one) for the access
// log, and its tries still propagate `traceparent` with flags 00; its spans are
// non-recording, so it costs two id generations and no attributes.
//
// Span times: the SDK's default start time is Date.now() (whole milliseconds) plus a
// precise duration, which for sub-millisecond gateway spans draws a try outside its
// request in a trace view. Here every time is performance.now() plus a wall-clock offset
// re-anchored to Date.now() once per CLOCK_REANCHOR_MS (so it cannot drift), and all spans
// of one request use the offset taken when it started: µs resolution, consistent nesting.
//
// Export failures never reach the request path: span work is synchronous and in memory,
// exports run on the BatchSpanProcessor's timer, and failures are logged with
// `logger.warn` at most once per EXPORT_WARN_INTERVAL_MS (the count of suppressed
// warnings goes in the next line). `forceFlush` and `shutdown` never reject.
//
// The standard OTEL_* environment variables still apply where this config leaves a
// setting open (e.g. OTEL_BSP_MAX_QUEUE_SIZE, OTEL_EXPORTER_OTLP_TIMEOUT, extra
// OTEL_EXPORTER_OTLP_HEADERS); config values win.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  type ExportResult,
} from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '../config/types.js';
import { VERSION } from '../version.js';

/** At most one export-failure warning per this many ms. */
export const EXPORT_WARN_INTERVAL_MS = 10_000;

/** How often the span clock's offset to Date.now() is taken again, ms. */
const CLOCK_REANCHOR_MS = 1000;

const ATTR_LOOM_REQUEST_ID = 'loom.request_id';
const ATTR_LOOM_ROUTE_ID = 'loom.route_id';
const ATTR_LOOM_UPSTREAM = 'loom.upstream';

/** Upstream endpoints are plain HTTP (`host:port`, never a scheme): the scheme of `url.full`. */
const UPSTREAM_SCHEME = 'http';

/** Methods OTel HTTP semconv knows; any other is reported as `_OTHER` (+ `http.request.method_original`). */
const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

// Stateless, so shared by every Tracing. Extraction takes both parts at once; injection
// is per part, `baggage` only when the outgoing headers lack it.
const TRACE_CONTEXT = new W3CTraceContextPropagator();
const BAGGAGE = new W3CBaggagePropagator();
const EXTRACTOR = new CompositePropagator({ propagators: [TRACE_CONTEXT, BAGGAGE] });

/** Appends to a flat [name, value, …] header list. */
const ARRAY_SETTER: TextMapSetter<string[]> = {
  set(carrier, key, value) {
    carrier.push(key, value);
  },
};

export interface RequestTraceInfo {
  readonly method: string;
  /** Request path; a `?query` part, if any, goes to `url.query`. */
  readonly path: string;
  /** The client's Host (`name[:port]`), undefined when absent. */
  readonly host: string | undefined;
  readonly scheme: string;
  readonly clientIp: string;
  readonly userAgent: string | undefined;
  readonly requestId: string;
}

export interface RequestTrace {
  /** 32 hex chars, also for unsampled requests (for the access log). */
  readonly traceId: string;
  readonly sampled: boolean;
  /** Called once the route is known: span name becomes `${method} ${routePath}` (OTel HTTP semconv), attributes http.route, loom.route_id, loom.upstream. */
  setRoute(routeId: string, routePath: string, upstream: string): void;
  /**
   * Starts a CLIENT child span for one upstream try (retryNumber 0 = first try; sets
   * http.request.resend_count when > 0). `path` is the origin-form target sent upstream
   * (`/p?q`); it goes into `url.full` with the endpoint's host and port.
   */
  startTry(upstream: string, endpointHost: string, endpointPort: number, method: string, path: string, retryNumber: number): TryTrace;
  /**
   * Ends the server span: http.response.status_code; for a 5xx, status ERROR and error.type =
   * errorCode (else the status code). A 4xx or 499 is not a server error (OTel HTTP semconv).
   * Idempotent. Tries still open are not ended here.
   */
  end(status: number, errorCode?: string): void;
}

export interface TryTrace {
  /**
   * Returns a NEW flat header list ([name, value, …]; the input is shared and not
   * mutated): every `traceparent`/`tracestate` (any case) is replaced by this try's
   * context; a `baggage` header already in the list is kept as is, and when there is none
   * the baggage extracted from the client (if any) is added. Unsampled tries propagate
   * flags 00.
   */
  inject(headers: readonly string[]): string[];
  /**
   * status: the upstream's response status (0/undefined if none); errorCode: a Loom
   * error code such as LOOM_ERR_UPSTREAM_CONNECT. Sets http.response.status_code when a
   * status is known; status ERROR (and error.type = errorCode, else the status code) when
   * errorCode is set or status >= 500. Deliberately not for 4xx, which semconv suggests for
   * client spans: a gateway passes an upstream's 4xx through as the client's answer, and
   * the SERVER span leaves 4xx unset too, so 4xx tries would only add noise to error views.
   * Idempotent.
   */
  end(status: number | undefined, errorCode?: string): void;
}

/** `endpoint` as the exporter wants it: `host:port` becomes a URL, a URL is used as is. */
export function exporterUrl(config: Pick<TracingConfig, 'provider' | 'endpoint' | 'protocol'>): string {
  const endpoint = config.endpoint.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) return endpoint;
  if (config.provider === 'zipkin') return `http://${endpoint}/api/v2/spans`;
  return config.protocol === 'grpc' ? `http://${endpoint}` : `http://${endpoint}/v1/traces`;
}

// Exporters are loaded on first use: only the configured one is paid for at start-up
// (the gRPC one pulls in @grpc/grpc-js and the protobuf serialiser).
const requireCjs = createRequire(import.meta.url);

function createExporter(config: TracingConfig, url: string): SpanExporter {
  const headers = { ...config.headers };
  if (config.provider === 'zipkin') {
    const { ZipkinExporter } = requireCjs('@opentelemetry/exporter-zipkin') as typeof import('@opentelemetry/exporter-zipkin');
    return new ZipkinExporter({ url, headers, serviceName: config.service_name });
  }
  if (config.protocol === 'http/protobuf') {
    const { OTLPTraceExporter } = requireCjs('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
    return new OTLPTraceExporter({ url, headers });
  }
  const grpcExporterPath = requireCjs.resolve('@opentelemetry/exporter-trace-otlp-grpc');
  const { OTLPTraceExporter } = requireCjs(grpcExporterPath) as typeof import('@opentelemetry/exporter-trace-otlp-grpc');
  type GrpcOptions = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;
  let metadata: GrpcOptions['metadata'];
  const names = Object.keys(headers);
  if (names.length > 0) {
    // A grpc-js Metadata from the exporter's own grpc-js (resolved next to the exporter,
    // so it is the instance its transport expects).
    const base = createRequire(grpcExporterPath)('@opentelemetry/otlp-grpc-exporter-base') as {
      createEmptyMetadata(): NonNullable<GrpcOptions['metadata']>;
    };
    metadata = base.createEmptyMetadata();
    for (const name of names) metadata.set(name.toLowerCase(), headers[name]);
  }
  return new OTLPTraceExporter(metadata === undefined ? { url } : { url, metadata });
}

/** Reports failed exports (rate-limited) and passes results on unchanged. */
class ReportingExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      this.inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) this.onFailure(result.error ?? new Error('span export failed'));
        resultCallback(result);
      });
    } catch (error) {
      this.onFailure(error);
      resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** `name[:port]` or `[v6][:port]` → address and port (NaN when absent or invalid). */
function splitHostPort(host: string): { address: string; port: number } {
  let colon: number;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close < 0) return { address: host, port: NaN };
    colon = host.charCodeAt(close + 1) === 58 /* : */ ? close + 1 : -1;
    const address = host.slice(1, close);
    return { address, port: colon < 0 ? NaN : portNumber(host.slice(colon + 1)) };
  }
  colon = host.lastIndexOf(':');
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (colon < 0 || host.indexOf(':') !== colon) return { address: host, port: NaN };
  return { address: host.slice(0, colon), port: portNumber(host.slice(colon + 1)) };
}

function portNumber(text: string): number {
  if (text.length === 0 || text.length > 5) return NaN;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n <= 65535 ? n : NaN;
}

export class Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly logger: Logger;
  private readonly exporterTarget: string;
  private clockOffset = 0;
  private clockAnchoredAt = -Infinity;
  private lastWarnAt = -Infinity;
  private suppressedWarnings = 0;
  private shutdownPromise: Promise<void> | undefined;

  private constructor(config: TracingConfig, logger: Logger) {
    this.logger = logger;
    const url = exporterUrl(config);
    this.exporterTarget = `${config.provider} ${config.provider === 'zipkin' ? 'json' : config.protocol} ${url}`;
    const exporter = new ReportingExporter(createExporter(config, url), (error) => this.warnExportFailure(error));
    const ratio = Math.min(1, Math.max(0, config.ratio));
    const ratioSampler = new TraceIdRatioBasedSampler(ratio);
    const sampler: Sampler = config.parent_based ? new ParentBasedSampler({ root: ratioSampler }) : ratioSampler;
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.service_name }),
      sampler,
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.batch_timeout })],
    });
    this.tracer = this.provider.getTracer('loom', VERSION);
  }

  /** Cold path. Throws on an endpoint the exporter cannot use (config validation should have caught it). */
  static create(config: TracingConfig, logger: Logger): Tracing {
    return new Tracing(config, logger);
  }

  /** Hot path: extracts traceparent/tracestate/baggage from the client's headers and starts a SERVER span. */
  startRequest(headers: IncomingHttpHeaders, info: RequestTraceInfo): RequestTrace {
    // No trace headers: the ROOT_CONTEXT itself comes back, nothing is allocated.
    const extracted = EXTRACTOR.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const known = KNOWN_METHODS.has(info.method);
    const method = known ? info.method : '_OTHER';
    const perfNow = performance.now();
    if (perfNow - this.clockAnchoredAt >= CLOCK_REANCHOR_MS) {
      this.clockOffset = Date.now() - perfNow;
      this.clockAnchoredAt = perfNow;
    }
    const offset = this.clockOffset;
    const options: SpanOptions = { kind: SpanKind.SERVER, startTime: perfNow + offset };
    const span = this.tracer.startSpan(known ? info.method : 'HTTP', options, extracted);
    if (span.isRecording()) {
      span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method);
      if (!known) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, info.method);
      const path = info.path;
      const q = path.indexOf('?');
      if (q < 0) span.setAttribute(ATTR_URL_PATH, path);
      else {
        span.setAttribute(ATTR_URL_PATH, path.slice(0, q));
        span.setAttribute(ATTR_URL_QUERY, path.slice(q + 1));
      }
      span.setAttribute(ATTR_URL_SCHEME, info.scheme);
      if (info.host !== undefined && info.host !== '') {
        const { address, port } = splitHostPort(info.host);
        span.setAttribute(ATTR_SERVER_ADDRESS, address);
        if (!Number.isNaN(port)) span.setAttribute(ATTR_SERVER_PORT, port);
      }
      span.setAttribute(ATTR_CLIENT_ADDRESS, info.clientIp);
      if (info.userAgent !== undefined) span.setAttribute(ATTR_USER_AGENT_ORIGINAL, info.userAgent);
      span.setAttribute(ATTR_LOOM_REQUEST_ID, info.requestId);
    }
    return new ServerTrace(this.tracer, span, extracted, known ? info.method : 'HTTP', offset);
  }

  /** Exports every finished span now. Never rejects: failures are logged. */
  async forceFlush(): Promise<void> {
    try {
      await this.provider.forceFlush();
    } catch (error) {
      this.warnExportFailure(error);
    }
  }

  /** Flushes and stops the exporter. Idempotent; never rejects. Spans started afterwards are dropped. */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.provider.shutdown().catch((error: unknown) => this.warnExportFailure(error));
    return this.shutdownPromise;
  }

  private warnExportFailure(error: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnAt < EXPORT_WARN_INTERVAL_MS) {
      this.suppressedWarnings++;
      return;
    }
    this.lastWarnAt = now;
    const suppressed = this.suppressedWarnings;
    this.suppressedWarnings = 0;
    const err = Array.isArray(error) ? error[0] : error;
    this.logger.warn(
      { err, exporter: this.exporterTarget, suppressed },
      `tracing: span export failed (at most one warning per ${EXPORT_WARN_INTERVAL_MS / 1000} s)`,
    );
  }
}

class ServerTrace implements RequestTrace {
  readonly traceId: string;
  readonly sampled: boolean;
  /** Parent context of the tries, built on the first try. */
  private tryParent: Context | undefined;
  private ended = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    /** The client's context: remote span context and baggage (ROOT_CONTEXT when none). */
    private readonly extracted: Context,
    /** Span name prefix: the method, or `HTTP` for one semconv does not know. */
    private readonly methodName: string,
    /** performance.now() + clockOffset = epoch ms, for every span of this request. */
    private readonly clockOffset: number,
  ) {
    const sc = span.spanContext();
    this.traceId = sc.traceId;
    this.sampled = (sc.traceFlags & 1) === 1;
  }

  setRoute(routeId: string, routePath: string, upstream: string): void {
    const span = this.span;
    if (!span.isRecording()) return;
    span.updateName(`${this.methodName} ${routePath}`);
    span.setAttribute(ATTR_HTTP_ROUTE, routePath);
    span.setAttribute(ATTR_LOOM_ROUTE_ID, routeId);
    span.setAttribute(ATTR_LOOM_UPSTREAM, upstream);
  }

  startTry(upstream: string, endpointHost: string, endpointPort: number, method: string, path: string, retryNumber: number): TryTrace {
    this.tryParent ??= trace.setSpan(ROOT_CONTEXT, this.span);
    const known = KNOWN_METHODS.has(method);
    const options: SpanOptions = { kind: SpanKind.CLIENT, startTime: performance.now() + this.clockOffset };
    const span = this.tracer.startSpan(known ? method : 'HTTP', options, this.tryParent);
    if (span.isRecording()) {
      span.setAttribute(ATTR_HTTP_REQUEST_METHOD, known ? method : '_OTHER');
      if (!known) span.setAttribute(ATTR_HTTP_REQUEST_METHOD_ORIGINAL, method);
      span.setAttribute(ATTR_SERVER_ADDRESS, endpointHost);
      span.setAttribute(ATTR_SERVER_PORT, endpointPort);
      const host = endpointHost.includes(':') && endpointHost.charCodeAt(0) !== 91 ? `[${endpointHost}]` : endpointHost;
      span.setAttribute(ATTR_URL_FULL, `${UPSTREAM_SCHEME}://${host}:${endpointPort}${path}`);
      span.setAttribute(ATTR_LOOM_UPSTREAM, upstream);
      if (retryNumber > 0) span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, retryNumber);
    }
    return new ClientTrace(span, this.extracted, this.clockOffset);
  }

  end(status: number, errorCode?: string): void {
    if (this.ended) return;
    this.ended = true;
    const span = this.span;
    if (!span.isRecording()) return;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    // Server spans: only 5xx is an error (OTel HTTP semconv); a 404 or a client that went
    // away (499) is the client's doing.
    if (status >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, errorCode ?? String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(performance.now() + this.clockOffset);
  }
}

class ClientTrace implements TryTrace {
  private ended = false;

  constructor(
    private readonly span: Span,
    /** The client's context (see ServerTrace): its baggage is injected when the headers have none. */
    private readonly extracted: Context,
    private readonly clockOffset: number,
  ) {}

  inject(headers: readonly string[]): string[] {
    const out: string[] = [];
    let hasBaggage = false;
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i];
      // Length first: most names are skipped without lower-casing.
      const len = name.length;
      if (len === 11 || len === 10) {
        const lower = name.toLowerCase();
        if (lower === 'traceparent' || lower === 'tracestate') continue;
      } else if (len === 7 && !hasBaggage && name.toLowerCase() === 'baggage') {
        hasBaggage = true;
      }
      out.push(name, headers[i + 1]);
    }
    // The extracted context keeps the client's baggage; the try span replaces its span.
    const ctx = trace.setSpan(this.extracted, this.span);
    TRACE_CONTEXT.inject(ctx, out, ARRAY_SETTER);
    // Adds nothing when the client sent no (valid) baggage.
    if (!hasBaggage) BAGGAGE.inject(ctx, out, ARRAY_SETTER);
    return out;
  }

  end(status: number | undefined, errorCode?: string): void {
    if (this.ended) return;
    this.ended = true;
    const span = this.span;
    if (!span.isRecording()) return;
    if (status !== undefined && status > 0) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (errorCode !== undefined || (status !== undefined && status >= 500)) {
      span.setAttribute(ATTR_ERROR_TYPE, errorCode ?? String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(performance.now() + this.clockOffset);
  }
}
