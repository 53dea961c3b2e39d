// Reads and hashes the consistent-hash key of a request, in place: the header value,
// one cookie out of the Cookie header, or one parameter out of the raw query string
// is located by index and hashed as a substring (no split, no URLSearchParams, no
// decoding, no allocation). Hot path.
//
// Decisions:
// - A missing or empty key falls back to the client IP, so requests without the key
//   still stick (per client) instead of all landing on one endpoint.
// - Header: Node lower-cases incoming names, so the configured name is lower-cased
//   once here; a repeated header (array value) uses its first value.
// - Cookie: the first `name=value` pair wins (browsers send the most specific path
//   first); names are case-sensitive; surrounding whitespace and one pair of double
//   quotes around the value are ignored.
// - Query: the first `name=…` parameter wins (as URLSearchParams.get); name and
//   value are compared and hashed raw, without percent-decoding, so `a%20b` and
//   `a+b` are different keys. `?name` without `=` counts as missing.
// - Client IP: the full address string is hashed (not nginx's first three IPv4
//   octets); an IPv4-mapped IPv6 address `::ffff:1.2.3.4` is hashed as `1.2.3.4`,
//   so a client keeps its endpoint whether it arrives on a v4 or dual-stack socket.

import type { HashKeySource } from '../../config/types.js';
import type { SelectionInput } from './selector.js';
import { hash32 } from './hash32.js';

const KIND_HEADER = 0;
const KIND_COOKIE = 1;
const KIND_QUERY = 2;
const KIND_CLIENT_IP = 3;

/** Compiled from a HashKeySource once per selector (cold path). */
export class HashKeyReader {
  private readonly kind: number;
  private readonly name: string;

  constructor(source: HashKeySource) {
    switch (source.kind) {
      case 'header':
        this.kind = KIND_HEADER;
        this.name = source.name.toLowerCase();
        break;
      case 'cookie':
        this.kind = KIND_COOKIE;
        this.name = source.name;
        break;
      case 'query':
        this.kind = KIND_QUERY;
        this.name = source.name;
        break;
      case 'client_ip':
        this.kind = KIND_CLIENT_IP;
        this.name = '';
        break;
      default: {
        const never: never = source;
        throw new TypeError(`unknown hash key source ${JSON.stringify(never)}`);
      }
    }
  }

  /** Unsigned 32-bit hash of the request's key (or of its client IP when the key is missing). */
  hash(input: SelectionInput): number {
    let h = -1;
    switch (this.kind) {
      case KIND_HEADER: {
        const v = input.headers[this.name];
        const s = typeof v === 'string' ? v : v !== undefined && v.length > 0 ? v[0] : undefined;
        if (s !== undefined && s.length > 0) h = hash32(s, 0, s.length);
        break;
      }
      case KIND_COOKIE: {
        const c = input.headers.cookie;
        if (typeof c === 'string') h = hashCookie(c, this.name);
        break;
      }
      case KIND_QUERY:
        h = hashQueryParam(input.rawQuery, this.name);
        break;
    }
    return h >= 0 ? h : hashClientIp(input.clientIp);
  }
}

/** Hash of the client IP, `::ffff:a.b.c.d` normalised to `a.b.c.d`. */
export function hashClientIp(ip: string): number {
  return hash32(ip, isMappedIpv4(ip) ? 7 : 0, ip.length);
}

/** `::ffff:` (any case) followed by a dotted IPv4 address. Char-code compares: no allocation. */
function isMappedIpv4(ip: string): boolean {
  return (
    ip.length > 7 &&
    ip.charCodeAt(0) === 58 &&
    ip.charCodeAt(1) === 58 &&
    (ip.charCodeAt(2) | 32) === 102 &&
    (ip.charCodeAt(3) | 32) === 102 &&
    (ip.charCodeAt(4) | 32) === 102 &&
    (ip.charCodeAt(5) | 32) === 102 &&
    ip.charCodeAt(6) === 58 &&
    ip.indexOf('.', 7) > 7
  );
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/** Hash of cookie `name`'s value in a Cookie header, or -1 when absent or empty. */
export function hashCookie(header: string, name: string): number {
  const len = header.length;
  const nl = name.length;
  let i = 0;
  while (i < len) {
    while (i < len && isSpace(header.charCodeAt(i))) i++;
    let end = header.indexOf(';', i);
    if (end < 0) end = len;
    if (end - i > nl && header.charCodeAt(i + nl) === 61 /* = */ && header.startsWith(name, i)) {
      let vs = i + nl + 1;
      let ve = end;
      while (ve > vs && isSpace(header.charCodeAt(ve - 1))) ve--;
      while (vs < ve && isSpace(header.charCodeAt(vs))) vs++;
      if (ve - vs >= 2 && header.charCodeAt(vs) === 34 && header.charCodeAt(ve - 1) === 34) {
        vs++;
        ve--;
      }
      return ve > vs ? hash32(header, vs, ve) : -1;
    }
    i = end + 1;
  }
  return -1;
}

/** Hash of query parameter `name`'s raw value, or -1 when absent or empty. */
export function hashQueryParam(query: string, name: string): number {
  const len = query.length;
  const nl = name.length;
  let i = 0;
  while (i < len) {
    let end = query.indexOf('&', i);
    if (end < 0) end = len;
    if (end - i >= nl && query.startsWith(name, i)) {
      const after = i + nl;
      if (after === end) return -1; // `?name` or `?name&…`: present without a value
      if (query.charCodeAt(after) === 61 /* = */) return end > after + 1 ? hash32(query, after + 1, end) : -1;
    }
    i = end + 1;
  }
  return -1;
}
