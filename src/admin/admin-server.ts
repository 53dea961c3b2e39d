// The admin API on its own listener (default 127.0.0.1:9091), never on a data-plane port.
// Every answer is JSON except the Prometheus exposition; unknown paths get 404, known
// paths with another method 405 with `Allow`. With `admin.auth`, everything except
// `/health` and `/ready` needs Basic (bcrypt) or Bearer credentials (401 otherwise).
//
//   GET  /health                                       liveness: 200 while the process serves
//   GET  /ready                                        200 once a config is live; 503 before, while
//                                                      stopping, or when a required upstream has no
//                                                      available endpoint
//   GET  /upstreams, /upstreams/{name}                 live upstream state (views.ts)
//   GET  /routes                                       the live routes, in config order
//   GET  /config                                       the effective config, secrets redacted
//   GET  /plugins                                      [] (plugins arrive with their issue)
//   GET  <metrics.prometheus.path>                     Prometheus text format (default /metrics)
//   POST /reload                                       reload the config file now
//   POST|DELETE /upstreams/{name}/endpoints/{address}/drain   take an endpoint out of / back into rotation
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { CompiledRoute } from '../compile/compile.js';
import { ERROR_CODES, type GatewayErrorCode } from '../errors.js';
import type { AdminConfig, GatewayConfig, MetricsConfig } from '../config/types.js';
import type { GatewayMetrics } from '../observability/metrics/gateway-metrics.js';
import type { ReloadOutcome } from '../runtime/config-reloader.js';
import { refreshAvailability } from '../upstream/endpoint.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import { boundAddress, listenOn } from '../listener/bind.js';
import { AdminAuth } from './admin-auth.js';
import { redactConfig } from './redact-config.js';
import { routeView, upstreamView, endpointView } from './views.js';

/** What the admin API reads and drives; the Gateway implements it. */
export interface AdminBackend {
  liveGroups(): readonly UpstreamGroup[];
  liveRoutes(): readonly CompiledRoute[];
  liveConfig(): GatewayConfig | null;
  /** `starting` until the first config is live, `stopping` from the first stop() on. */
  readonly lifecycle: 'starting' | 'serving' | 'stopping';
  /** null when nothing can reload this gateway (no config file). */
  reloadFromSource(): Promise<ReloadOutcome> | null;
  /** null while metrics are disabled. */
  metrics(): GatewayMetrics | null;
}

/** The admin server closes requests that take longer than this (the Go gateway's 10 s). */
export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;

type Handler = (req: IncomingMessage, res: ServerResponse, params: string[]) => void | Promise<void>;

interface AdminRoute {
  readonly pattern: RegExp;
  /** Method → handler; GET also answers HEAD. */
  readonly methods: Readonly<Record<string, Handler>>;
  /** Open without credentials. */
  readonly open?: boolean;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** The proxy's error shape (docs/errors.md), from the shared code table; admin answers carry no request id. */
function sendError(res: ServerResponse, code: GatewayErrorCode, message: string = ERROR_CODES[code].message, headers?: Record<string, string | string[]>): void {
  const { status } = ERROR_CODES[code];
  send(res, status, { error: { code, status, message } }, headers);
}

export class AdminServer {
  config: AdminConfig;
  private metricsConfig: MetricsConfig;
  private auth: AdminAuth | null;
  private readonly backend: AdminBackend;
  private readonly logger: Logger;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Connections with an admin request in progress, and its response: close() lets those finish. */
  private readonly busy = new Map<Socket, ServerResponse>();
  private closing = false;
  private routes: AdminRoute[];

  constructor(config: AdminConfig, metrics: MetricsConfig, backend: AdminBackend, logger: Logger) {
    this.config = config;
    this.metricsConfig = metrics;
    this.auth = config.auth === undefined ? null : new AdminAuth(config.auth);
    this.backend = backend;
    this.logger = logger;
    this.routes = this.buildRoutes();
    this.server = createServer({ requestTimeout: ADMIN_REQUEST_TIMEOUT_MS, headersTimeout: ADMIN_REQUEST_TIMEOUT_MS }, (req, res) => {
      const socket = req.socket;
      this.busy.set(socket, res);
      if (this.closing) res.setHeader('connection', 'close');
      res.once('close', () => {
        this.busy.delete(socket);
        // Closed while this request ran: end the connection once the response is out.
        if (this.closing && !socket.destroyed) socket.end(() => socket.destroy());
      });
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err, path: req.url }, 'admin request failed');
        if (!res.headersSent) sendError(res, 'LOOM_ERR_INTERNAL', 'the admin request failed; see the gateway log');
        else res.destroy();
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  /** Applies a reloaded config's auth, readiness and metrics path (the address is the Gateway's business). */
  configure(config: AdminConfig, metrics: MetricsConfig): void {
    const authChanged = JSON.stringify(config.auth) !== JSON.stringify(this.config.auth);
    this.config = config;
    this.metricsConfig = metrics;
    if (authChanged) this.auth = config.auth === undefined ? null : new AdminAuth(config.auth);
    this.routes = this.buildRoutes();
  }

  listen(): Promise<void> {
    return listenOn(this.server, this.config.host, this.config.port);
  }

  address(): { host: string; port: number } | null {
    return boundAddress(this.server);
  }

  /**
   * Stops accepting, closes idle admin connections at once and the others as soon as their
   * request is answered (admin requests are short). The request that caused the close — a
   * `POST /reload` that moves the admin listener — still gets its response.
   */
  close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const s of this.sockets) {
      const res = this.busy.get(s);
      if (res === undefined) s.destroy();
      else if (!res.headersSent) res.setHeader('connection', 'close');
    }
    return closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // no admin endpoint reads a body
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (m === null) continue;
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
      const handler = route.methods[method];
      if (handler === undefined) {
        const allow = Object.keys(route.methods);
        if (allow.includes('GET')) allow.push('HEAD');
        sendError(res, 'LOOM_ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`, { allow: allow.join(', ') });
        return;
      }
      if (!route.open && this.auth !== null && !(await this.auth.check(req.headers.authorization))) {
        this.logger.warn({ path, client_ip: req.socket.remoteAddress }, 'admin request without valid credentials');
        sendError(res, 'LOOM_ERR_UNAUTHORIZED', undefined, { 'www-authenticate': this.auth.challenges() });
        return;
      }
      let params: string[];
      try {
        params = m.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        sendError(res, 'LOOM_ERR_BAD_REQUEST', 'the path is not valid percent-encoding');
        return;
      }
      await handler(req, res, params);
      return;
    }
    sendError(res, 'LOOM_ERR_NOT_FOUND', `no admin endpoint at ${path}`);
  }

  private group(name: string): UpstreamGroup | undefined {
    return this.backend.liveGroups().find((g) => g.name === name);
  }

  private buildRoutes(): AdminRoute[] {
    const routes: AdminRoute[] = [
      { pattern: /^\/health$/, open: true, methods: { GET: (_q, res) => send(res, 200, { status: 'healthy' }) } },
      { pattern: /^\/ready$/, open: true, methods: { GET: (_q, res) => this.ready(res) } },
      { pattern: /^\/upstreams$/, methods: { GET: (_q, res) => send(res, 200, this.backend.liveGroups().map(upstreamView)) } },
      {
        pattern: /^\/upstreams\/([^/]+)$/,
        methods: {
          GET: (_q, res, [name]) => {
            const g = this.group(name);
            if (g === undefined) sendError(res, 'LOOM_ERR_NOT_FOUND', `no upstream named "${name}"`);
            else send(res, 200, upstreamView(g));
          },
        },
      },
      {
        pattern: /^\/upstreams\/([^/]+)\/endpoints\/([^/]+)\/drain$/,
        methods: {
          POST: (_q, res, [name, address]) => this.drain(res, name, address, true),
          DELETE: (_q, res, [name, address]) => this.drain(res, name, address, false),
        },
      },
      { pattern: /^\/routes$/, methods: { GET: (_q, res) => send(res, 200, this.backend.liveRoutes().map(routeView)) } },
      { pattern: /^\/config$/, methods: { GET: (_q, res) => send(res, 200, redactConfig(this.backend.liveConfig())) } },
      { pattern: /^\/plugins$/, methods: { GET: (_q, res) => send(res, 200, []) } },
      { pattern: /^\/reload$/, methods: { POST: (_q, res) => this.reload(res) } },
    ];
    if (this.metricsConfig.enabled) {
      const path = this.metricsConfig.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      // First, so a custom metrics path wins over the endpoints above.
      routes.unshift({ pattern: new RegExp(`^${path}$`), methods: { GET: (_q, res) => this.metrics(res) } });
    }
    return routes;
  }

  private ready(res: ServerResponse): void {
    const reasons: string[] = [];
    const lifecycle = this.backend.lifecycle;
    if (lifecycle !== 'serving') reasons.push(lifecycle === 'starting' ? 'no config is live yet' : 'the gateway is shutting down');
    else {
      const groups = this.backend.liveGroups();
      for (const name of this.config.required_upstreams) {
        const g = groups.find((x) => x.name === name);
        if (g === undefined || !g.endpoints.some((e) => e.available)) reasons.push(`upstream "${name}" has no available endpoint`);
      }
    }
    if (reasons.length === 0) send(res, 200, { status: 'ready' });
    else send(res, 503, { status: 'not_ready', reasons });
  }

  private drain(res: ServerResponse, name: string, address: string, drained: boolean): void {
    const g = this.group(name);
    if (g === undefined) return sendError(res, 'LOOM_ERR_NOT_FOUND', `no upstream named "${name}"`);
    const e = g.endpoints.find((x) => x.address === address);
    if (e === undefined) return sendError(res, 'LOOM_ERR_NOT_FOUND', `upstream "${name}" has no endpoint "${address}"`);
    if (e.drained !== drained) {
      e.drained = drained;
      refreshAvailability(e);
      this.logger.info({ upstream: name, endpoint: address }, drained ? 'endpoint drained by the admin API' : 'endpoint back in rotation (admin API)');
    }
    send(res, 200, { upstream: name, endpoint: endpointView(g, e) });
  }

  private async reload(res: ServerResponse): Promise<void> {
    const pending = this.backend.reloadFromSource();
    if (pending === null) return sendError(res, 'LOOM_ERR_NO_CONFIG_FILE');
    const outcome = await pending;
    if (outcome.ok) send(res, 200, { status: 'reloaded' });
    else if ('errors' in outcome) send(res, 400, { status: 'rejected', errors: outcome.errors });
    else send(res, 500, { status: 'rejected', error: outcome.error });
  }

  private async metrics(res: ServerResponse): Promise<void> {
    const metrics = this.backend.metrics();
    if (metrics === null) return sendError(res, 'LOOM_ERR_NOT_FOUND', 'metrics are disabled');
    const text = await metrics.exposition();
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(res.req.method === 'HEAD' ? undefined : text);
  }
}
