// The request path (hot): pin snapshot → normalise path → route → select endpoint →
// build headers → dispatch. Everything precomputable was done at compile time; this
// function only reads. Local answers (400/404/405/503) are small JSON bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { normalizePath } from '../router/normalize-path.js';
import { stripPrefix } from '../router/router.js';
import type { SnapshotHolder } from '../runtime/snapshot-holder.js';
import { buildUpstreamHeaders, type ForwardingInfo } from './header-rules.js';
import { readReplayableBody } from './replayable-body.js';
import { ProxyExchange, type ExchangeObserver } from './proxy-exchange.js';
import { requestIdFor } from './request-id.js';

export interface RequestHandlerContext {
  readonly holder: SnapshotHolder;
  readonly observer: ExchangeObserver;
  readonly logger: Logger;
  /** `http` or `https`, for X-Forwarded-Proto. */
  readonly proto: string;
  /** The listener the request arrived on; while it drains, responses close their connection. */
  readonly listener: { readonly draining: boolean };
}

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
export function clientIpOf(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * The origin-form (`/path?query`) of a request target. An absolute-form target
 * (`http://host/path`, which HTTP/1.1 servers must accept) is reduced to its path and
 * query (its authority decides host matching: see `targetAuthority`). Anything else is
 * returned as is and rejected by normalizePath.
 */
export function originForm(target: string): string {
  const start = authorityStart(target);
  if (start < 0) return target;
  const slash = target.indexOf('/', start);
  const question = target.indexOf('?', start);
  if (slash < 0 || (question >= 0 && question < slash)) return question < 0 ? '/' : `/${target.slice(question)}`;
  return target.slice(slash);
}

/** Cold path: where the authority of an `http(s)://` absolute-form target begins, or -1. */
function authorityStart(target: string): number {
  if (target.charCodeAt(0) === 47 /* '/' */) return -1;
  const scheme = target.indexOf('://');
  return scheme >= 0 && /^https?$/i.test(target.slice(0, scheme)) ? scheme + 3 : -1;
}

/** The authority of an absolute-form target, which wins over the Host header (RFC 9112 §3.2.2). */
export function targetAuthority(target: string): string | undefined {
  const start = authorityStart(target);
  if (start < 0) return undefined;
  let end = target.length;
  for (const c of ['/', '?', '#']) {
    const i = target.indexOf(c, start);
    if (i >= 0 && i < end) end = i;
  }
  const authority = target.slice(start, end);
  const at = authority.lastIndexOf('@');
  return at < 0 ? authority : authority.slice(at + 1);
}

export function handleRequest(ctx: RequestHandlerContext, req: IncomingMessage, res: ServerResponse): void {
  const startedAt = performance.now();
  const snapshot = ctx.holder.current;
  const requestId = requestIdFor(req.headers['x-request-id']);
  if (ctx.listener.draining) res.shouldKeepAlive = false;
  if (snapshot === null) {
    // Only between stop() and the last connection closing.
    res.writeHead(503, { 'content-type': 'application/json', connection: 'close', 'x-request-id': requestId });
    res.end('{"error":{"code":"LOOM_ERR_NO_ENDPOINT","status":503,"message":"the gateway is shutting down"}}');
    return;
  }
  const target = req.url ?? '/';
  const url = originForm(target);
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const path = normalizePath(rawPath);
  const exchange = new ProxyExchange(req, res, snapshot, ctx.observer, requestId, path ?? rawPath, rawQuery, clientIpOf(req), startedAt);
  const tracing = snapshot.tracing;
  if (tracing !== null) {
    exchange.trace = tracing.startRequest(req.headers, {
      method: req.method ?? 'GET',
      path: path ?? rawPath,
      host: req.headers.host,
      scheme: ctx.proto,
      clientIp: exchange.clientIp,
      userAgent: req.headers['user-agent'],
      requestId,
    });
  }
  if (path === null) {
    exchange.fail(new GatewayError('LOOM_ERR_BAD_PATH', `the request path is not acceptable: ${JSON.stringify(rawPath.slice(0, 200))}`));
    return;
  }
  const method = req.method ?? 'GET';
  const host = url === target ? req.headers.host : (targetAuthority(target) ?? req.headers.host);
  const router = snapshot.compiled.router;
  const match = router.match(method, host, path, req.headers, rawQuery);
  if (ctx.logger.isLevelEnabled('debug')) {
    ctx.logger.debug({ request_id: requestId, method, host, path }, router.explain(method, host, path, req.headers, rawQuery));
  }
  if (match === null) {
    exchange.fail(new GatewayError('LOOM_ERR_ROUTE_NOT_FOUND', `no route matches ${method} ${path}`));
    return;
  }
  if (match.kind === 'method_not_allowed') {
    exchange.fail(new GatewayError('LOOM_ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`), match.allow);
    return;
  }
  const route = match.route;
  exchange.route = route;
  const group = snapshot.groups[route.upstreamIndex];
  exchange.group = group;
  if (exchange.trace !== null) exchange.trace.setRoute(route.id, route.path, group.name);
  const upstreamPath = route.strip_prefix ? stripPrefix(match, path) : path;
  const forwarding: ForwardingInfo = { clientIp: exchange.clientIp, proto: ctx.proto, requestId, hostOverride: undefined };
  // With host_header: endpoint the Host is set per try (each try may pick another endpoint).
  const headers = buildUpstreamHeaders(req.rawHeaders, forwarding);
  if (headers === null) {
    exchange.fail(new GatewayError('LOOM_ERR_BAD_REQUEST', 'the request has more than one Host header'));
    return;
  }
  const forwardPath = q < 0 ? upstreamPath : `${upstreamPath}?${rawQuery}`;
  const headersTimeout = route.timeout ?? group.config.timeout.read;
  const retry = group.config.retry;
  const hasBody = hasRequestBody(req);
  if (!hasBody || retry === undefined) {
    exchange.forward(group, { method, path: forwardPath, headersTimeout, body: hasBody ? req : null, forwarding }, headers);
    return;
  }
  // A retry must be able to resend the body: buffer it up to retry.buffer_limit (larger
  // bodies stream and are not retried). Costs one await, only for bodies on upstreams
  // with a retry policy.
  const length = req.headers['content-length'];
  readReplayableBody(req, length === undefined ? undefined : Number(length), retry.buffer_limit).then(
    (body) => exchange.forward(group, { method, path: forwardPath, headersTimeout, body: body.kind === 'empty' ? null : body.body, forwarding }, headers),
    (err: unknown) => exchange.fail(err instanceof GatewayError ? err : new GatewayError('LOOM_ERR_CLIENT_ABORTED')),
  );
}
