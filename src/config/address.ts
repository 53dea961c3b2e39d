// `host:port` parsing for listener addresses and upstream endpoints. Pure.

export type HostPort = { readonly host: string; readonly port: number };
export type ParseResult = { readonly ok: true; readonly value: HostPort } | { readonly ok: false; readonly reason: string };

const PORT = /^\d{1,5}$/;
// A DNS name or IPv4 literal: labels of letters, digits, '-', '_' separated by dots.
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

/**
 * Splits `host:port`, `[v6]:port` or (when `allowEmptyHost`) `:port`. The port must be
 * 0-65535 (`minPort` raises the floor). Host '' means every interface.
 */
export function parseHostPort(s: string, opts: { allowEmptyHost: boolean; minPort: number }): ParseResult {
  let host: string;
  let port: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') return { ok: false, reason: 'IPv6 addresses are written [addr]:port' };
    host = s.slice(1, close);
    port = s.slice(close + 2);
    if (!IPV6.test(host) || !host.includes(':')) return { ok: false, reason: `"${host}" is not an IPv6 address` };
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return { ok: false, reason: 'missing port' };
    host = s.slice(0, colon);
    port = s.slice(colon + 1);
    if (host.includes(':')) return { ok: false, reason: 'IPv6 addresses are written [addr]:port' };
    if (host === '' && !opts.allowEmptyHost) return { ok: false, reason: 'missing host' };
    if (host !== '' && !HOSTNAME.test(host)) return { ok: false, reason: `"${host}" is not a valid host name` };
  }
  if (!PORT.test(port)) return { ok: false, reason: port === '' ? 'missing port' : `port "${port}" is not a number` };
  const n = Number(port);
  if (n < opts.minPort || n > 65535) return { ok: false, reason: `port ${n} is out of range ${opts.minPort}-65535` };
  return { ok: true, value: { host, port: n } };
}

/** True when `s` starts with a URL scheme such as `http://`. */
export const hasScheme = (s: string): boolean => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s);

const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]']);
const LOOPBACK_NAMES = new Map([
  ['localhost', ['127.0.0.1', '::1']],
  ['127.0.0.1', ['127.0.0.1']],
  ['::1', ['::1']],
]);

/**
 * Whether two listen addresses would take the same socket: same port (0 never clashes)
 * and the same host, or either one every interface (`''`, `0.0.0.0`, `::`), or
 * `localhost` against a loopback literal.
 */
export function bindsOverlap(a: HostPort, b: HostPort): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const ha = a.host.toLowerCase();
  const hb = b.host.toLowerCase();
  if (ha === hb || WILDCARDS.has(ha) || WILDCARDS.has(hb)) return true;
  const la = LOOPBACK_NAMES.get(ha);
  const lb = LOOPBACK_NAMES.get(hb);
  return la !== undefined && lb !== undefined && la.some((x) => lb.includes(x));
}

/** Whether a listen host accepts connections from this machine only (`localhost`, 127.x, ::1). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.has(h) || h.startsWith('127.');
}
