// Header rules applied between client and upstream (pure functions, hot path).
//
// Request (client → upstream):
//   - hop-by-hop headers (RFC 9110 §7.6.1) and every header named in `Connection` are removed;
//     `TE: trailers` is kept (it asks for trailers end to end);
//   - `X-Forwarded-For` gets the client IP appended; `X-Forwarded-Proto` and
//     `X-Forwarded-Host` are set by the gateway (client values are replaced);
//   - `X-Request-ID` is set to the request id (kept from the client when valid);
//   - `Host` is the client's unless the upstream sends the endpoint's (`host_header: endpoint`);
//   - `Expect` is not forwarded: Node's server has already answered `100 Continue` to the
//     client, and the body is streamed to the upstream as it arrives;
//   - a second `Host` makes the request invalid (RFC 9112 §3.2: answer 400); a repeated
//     `Content-Length` (which Node accepts only when the values agree) is sent once.
// Response (upstream → client): hop-by-hop headers and those named in `Connection` are
// removed; `X-Request-ID` is always the request id (an upstream's own value is replaced,
// so the client, the upstream and the access log all see the same id).

/** Lower-case names of the hop-by-hop headers. `trailer` is not here: it announces end-to-end trailers. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

export interface ForwardingInfo {
  readonly clientIp: string;
  /** `http` or `https`: the listener's scheme. */
  readonly proto: string;
  /** The request id to send upstream. */
  readonly requestId: string;
  /** When set, replaces the client's Host (the endpoint's `host:port`). */
  readonly hostOverride: string | undefined;
}

/** Names listed in a `Connection` header value, lower-cased; null when there are none besides keep-alive/close. */
function connectionTokens(value: string): Set<string> | null {
  // Hot path: almost every client sends exactly `keep-alive` or `close`.
  if (value.length <= 10) {
    const v = value.toLowerCase();
    if (v === 'keep-alive' || v === 'close') return null;
  }
  let set: Set<string> | null = null;
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token === '' || token === 'close' || token === 'keep-alive') continue;
    (set ??= new Set()).add(token);
  }
  return set;
}

/**
 * Build the upstream request's headers as a flat `[name, value, …]` list from Node's
 * `rawHeaders` (which keeps duplicates and order). Hot path: one pass, one array.
 * Returns null when the request must be refused with 400 (more than one Host).
 */
export function buildUpstreamHeaders(rawHeaders: readonly string[], info: ForwardingInfo): string[] | null {
  const out: string[] = [];
  let nominated: Set<string> | null = null;
  let xff: string | undefined;
  let host: string | undefined;
  let contentLength = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    const value = rawHeaders[i + 1];
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'te' && value.trim().toLowerCase() === 'trailers') out.push(name, value);
      else if (lower === 'connection') {
        const tokens = connectionTokens(value);
        if (tokens !== null) {
          if (nominated === null) nominated = tokens;
          else for (const t of tokens) nominated.add(t);
        }
      }
      continue;
    }
    switch (lower) {
      case 'host':
        if (host !== undefined) return null;
        host = value;
        if (info.hostOverride === undefined) out.push(name, value);
        continue;
      case 'content-length':
        if (contentLength) continue;
        contentLength = true;
        out.push(name, value);
        continue;
      case 'expect':
        continue;
      case 'x-forwarded-for':
        xff = xff === undefined ? value : `${xff}, ${value}`;
        continue;
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
      case 'x-request-id':
        continue;
      default:
        out.push(name, value);
    }
  }
  // Headers named in Connection (rare beyond keep-alive/close) are removed after the single
  // pass, since a Connection header may come after the headers it names.
  if (nominated !== null) removeNamed(out, nominated);
  if (info.hostOverride !== undefined) out.push('host', info.hostOverride);
  out.push('x-forwarded-for', xff === undefined ? info.clientIp : `${xff}, ${info.clientIp}`);
  out.push('x-forwarded-proto', info.proto);
  if (host !== undefined) out.push('x-forwarded-host', host);
  out.push('x-request-id', info.requestId);
  return out;
}

/** Filter the upstream response's headers (flat [name, value, …]) into a flat list for `res.writeHead`. Hot path: one pass. */
export function filterResponseHeaders(raw: readonly string[], requestId: string): string[] {
  const out: string[] = [];
  let nominated: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') {
        const tokens = connectionTokens(raw[i + 1]);
        if (tokens !== null) {
          if (nominated === null) nominated = tokens;
          else for (const t of tokens) nominated.add(t);
        }
      }
      continue;
    }
    if (lower === 'x-request-id') continue;
    out.push(name, raw[i + 1]);
  }
  if (nominated !== null) removeNamed(out, nominated);
  out.push('x-request-id', requestId);
  return out;
}

/** Cold path: drops from a flat header list every header whose lower-cased name is in `names`. */
function removeNamed(flat: string[], names: ReadonlySet<string>): void {
  let w = 0;
  for (let r = 0; r < flat.length; r += 2) {
    if (names.has(flat[r].toLowerCase())) continue;
    flat[w++] = flat[r];
    flat[w++] = flat[r + 1];
  }
  flat.length = w;
}

/** Trailers (flat [name, value, …]) → object for `res.addTrailers`, hop-by-hop removed. */
export function trailersToObject(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    out[name] = raw[i + 1];
  }
  return out;
}
