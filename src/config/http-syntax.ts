// Small HTTP grammar checks used by validation and adaptation. Pure.
import type { HashKeySource } from './types.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i;

/** RFC 9110 token: method names and header field names. */
export const isToken = (s: string): boolean => TOKEN.test(s);

/** Exact host name, or `*.` followed by a host name; no port, no trailing dot. */
export function isHostPattern(s: string): boolean {
  const name = s.startsWith('*.') ? s.slice(2) : s;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

/**
 * `client_ip`, `header:NAME`, `cookie:NAME`, `query:NAME`, or a bare header name.
 * Header names are lower-cased (Node gives request headers in lower case); cookie and
 * query names keep their case. Undefined when malformed.
 */
export function parseHashKey(s: string): HashKeySource | undefined {
  if (s === 'client_ip') return { kind: 'client_ip' };
  const colon = s.indexOf(':');
  if (colon < 0) return isToken(s) ? { kind: 'header', name: s.toLowerCase() } : undefined;
  const kind = s.slice(0, colon);
  const name = s.slice(colon + 1);
  if (name === '') return undefined;
  if (kind === 'header') return isToken(name) ? { kind, name: name.toLowerCase() } : undefined;
  if (kind === 'cookie' || kind === 'query') return /^[^\s;,=&]+$/.test(name) ? { kind, name } : undefined;
  return undefined;
}
