// Semantic checks the schema cannot express: references, uniqueness, address and path
// syntax, cross-field limits. Runs on the schema-shaped data even when the schema found
// problems, so it reads defensively and skips values of the wrong type (the schema
// already reported those).
import { hasScheme, parseHostPort } from './address.js';
import { checkRoutePath } from './route-path.js';
import { isHostPattern, isToken, parseHashKey } from './http-syntax.js';
import type { Problem } from './schema-check.js';
import type { Segments, SourceIndex } from './source-index.js';
import { suggest } from './suggest.js';
import { parseDuration } from './units.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const items = (v: unknown): Obj[] => (Array.isArray(v) ? v.map((x) => (isObj(x) ? x : {})) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function checkSemantics(data: unknown, index: SourceIndex): Problem[] {
  const out: Problem[] = [];
  const report = (segments: Segments, where: 'key' | 'value', code: string, message: string, hint?: string): void => {
    const pos = index.pos(segments, where);
    out.push({ segments, line: pos.line, column: pos.column, path: index.path(segments), code, message, ...(hint ? { hint } : {}) });
  };
  /** Reports the second and later occurrences of a name, pointing back at the first. */
  const unique = (list: Obj[], section: string, key: string, what: string): void => {
    const first = new Map<string, number>();
    list.forEach((item, i) => {
      const name = str(item[key]);
      if (name === undefined) return;
      const seen = first.get(name);
      if (seen === undefined) first.set(name, i);
      else {
        const line = index.pos([section, String(seen), key], 'value').line;
        report([section, String(i), key], 'value', 'duplicate', `duplicate ${what} "${name}" (first defined at line ${line})`, `give each ${what} a unique value`);
      }
    });
  };
  if (!isObj(data)) return out;

  const listeners = items(data.listeners);
  unique(listeners, 'listeners', 'name', 'listener name');
  const bound = new Map<string, number>();
  listeners.forEach((l, i) => {
    const address = str(l.address);
    if (address === undefined || address === '') return;
    const r = parseHostPort(address, { allowEmptyHost: true, minPort: 0 });
    if (!r.ok) {
      report(['listeners', String(i), 'address'], 'value', 'invalid_address', `invalid listener address "${address}": ${r.reason}`,
        'write host:port, :port (every interface) or [v6]:port, e.g. ":8080"');
      return;
    }
    if (r.value.port === 0) return; // port 0: the system picks a free port for each
    const key = `${r.value.host}|${r.value.port}`;
    const first = bound.get(key);
    if (first !== undefined) {
      const line = index.pos(['listeners', String(first), 'address'], 'value').line;
      report(['listeners', String(i), 'address'], 'value', 'duplicate', `address "${address}" is already used by another listener (line ${line})`,
        'give each listener its own host:port');
    } else bound.set(key, i);
  });

  const upstreams = items(data.upstreams);
  unique(upstreams, 'upstreams', 'name', 'upstream name');
  upstreams.forEach((u, i) => checkUpstream(u, ['upstreams', String(i)], report));

  const routes = items(data.routes);
  unique(routes, 'routes', 'id', 'route id');
  const upstreamNames = upstreams.map((u) => str(u.name)).filter((n): n is string => n !== undefined);
  routes.forEach((r, i) => checkRoute(r, ['routes', String(i)], upstreamNames, report));
  return out;
}

type Report = (segments: Segments, where: 'key' | 'value', code: string, message: string, hint?: string) => void;

function checkUpstream(u: Obj, at: Segments, report: Report): void {
  const endpoints = Array.isArray(u.endpoints) ? u.endpoints : [];
  const seen = new Set<string>();
  endpoints.forEach((e, j) => {
    if (typeof e !== 'string' || e === '') return;
    const where = [...at, 'endpoints', String(j)];
    if (hasScheme(e)) {
      const bare = e.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '').replace(/\/.*$/, '');
      report(where, 'value', 'endpoint_scheme', `endpoint "${e}" has a scheme`,
        `write endpoints as host:port without the scheme, e.g. ${bare.includes(':') ? bare : 'api:8080'}`);
      return;
    }
    const r = parseHostPort(e, { allowEmptyHost: false, minPort: 1 });
    if (!r.ok && r.reason === 'missing port') {
      report(where, 'value', 'endpoint_port', `endpoint "${e}" has no port`, `write host:port, e.g. ${e}:80`);
    } else if (!r.ok) {
      report(where, 'value', 'invalid_endpoint', `invalid endpoint "${e}": ${r.reason}`, 'write host:port, e.g. api:8080, or [::1]:8080');
    } else if (seen.has(e)) {
      report(where, 'value', 'duplicate', `endpoint "${e}" is listed twice`, 'list each endpoint once; use `weights` to send it more traffic');
    }
    seen.add(e);
  });

  if (isObj(u.weights)) {
    const names = endpoints.filter((e): e is string => typeof e === 'string');
    for (const key of Object.keys(u.weights)) {
      if (names.includes(key)) continue;
      const near = suggest(key, names);
      report([...at, 'weights', key], 'key', 'unknown_endpoint', `weight for "${key}", which is not in endpoints`,
        near !== undefined ? `did you mean "${near}"?` : `endpoints are: ${names.join(', ')}`);
    }
  }

  const balancer = str(u.load_balancer) ?? 'round_robin';
  if (u.weights !== undefined && balancer === 'round_robin') {
    report([...at, 'weights'], 'key', 'ignored_setting', '`weights` has no effect with load_balancer round_robin',
      'set load_balancer: weighted (or least_conn, random, ip_hash, consistent_hash, p2c, which also honour weights)');
  }
  if (u.consistent_hash !== undefined && balancer !== 'consistent_hash' && balancer !== 'ip_hash') {
    report([...at, 'consistent_hash'], 'key', 'ignored_setting', `\`consistent_hash\` has no effect with load_balancer ${balancer}`,
      'set load_balancer: consistent_hash, or remove the block');
  } else if (isObj(u.consistent_hash) && balancer === 'ip_hash' && u.consistent_hash.hash_key !== undefined) {
    report([...at, 'consistent_hash', 'hash_key'], 'key', 'ignored_setting', '`hash_key` has no effect with load_balancer ip_hash (it always hashes the client IP)',
      'use load_balancer: consistent_hash to choose the key');
  }

  const hc = u.health_check;
  if (isObj(hc) && typeof hc.timeout === 'string' && typeof hc.interval === 'string') {
    const timeout = parseDuration(hc.timeout);
    const interval = parseDuration(hc.interval);
    if (timeout !== undefined && interval !== undefined && timeout > interval) {
      report([...at, 'health_check', 'timeout'], 'value', 'invalid_limits', `a probe timeout (${hc.timeout}) longer than the interval (${hc.interval})`,
        'make the timeout at most the interval');
    }
  }
  const retry = u.retry;
  if (isObj(retry) && typeof retry.backoff_base === 'string' && typeof retry.backoff_max === 'string') {
    const base = parseDuration(retry.backoff_base);
    const max = parseDuration(retry.backoff_max);
    if (base !== undefined && max !== undefined && base > max) {
      report([...at, 'retry', 'backoff_base'], 'value', 'invalid_limits', `backoff_base (${retry.backoff_base}) exceeds backoff_max (${retry.backoff_max})`,
        'raise backoff_max or lower backoff_base');
    }
  }

  if (isObj(u.pool)) {
    const { max_idle: idle, max_open: open } = u.pool;
    if (typeof idle === 'number' && typeof open === 'number' && idle > open) {
      report([...at, 'pool', 'max_idle'], 'value', 'pool_limits', `max_idle (${idle}) must not exceed max_open (${open})`,
        'lower max_idle or raise max_open');
    }
  }

  if (isObj(u.consistent_hash)) {
    const key = str(u.consistent_hash.hash_key);
    if (key !== undefined && parseHashKey(key) === undefined) {
      report([...at, 'consistent_hash', 'hash_key'], 'value', 'invalid_hash_key', `invalid hash key "${key}"`,
        'write client_ip, header:X-User, cookie:sid, query:user, or a header name');
    }
  }
}

function checkRoute(r: Obj, at: Segments, upstreamNames: string[], report: Report): void {
  const path = str(r.path);
  if (path !== undefined && path !== '') {
    const reason = checkRoutePath(path);
    if (reason !== undefined) report([...at, 'path'], 'value', 'invalid_path', `invalid path "${path}": ${reason}`, 'e.g. /api, /api/*, /api/{id}/items');
  }

  const host = str(r.host);
  if (host !== undefined && !isHostPattern(host)) {
    const hint = /:\d+$/.test(host) ? 'write the host without the port' : 'write an exact host name or *.example.com';
    report([...at, 'host'], 'value', 'invalid_host', `invalid host "${host}"`, hint);
  }

  if (Array.isArray(r.methods)) {
    r.methods.forEach((m, j) => {
      if (typeof m === 'string' && !isToken(m)) {
        report([...at, 'methods', String(j)], 'value', 'invalid_method', `invalid HTTP method "${m}"`, 'e.g. GET, POST, PUT, DELETE');
      }
    });
  }

  if (isObj(r.headers)) {
    const seen = new Set<string>();
    for (const name of Object.keys(r.headers)) {
      if (!isToken(name)) report([...at, 'headers', name], 'key', 'invalid_header_name', `invalid header name "${name}"`);
      else if (seen.has(name.toLowerCase())) report([...at, 'headers', name], 'key', 'duplicate', `header "${name}" is listed twice (names are case-insensitive)`);
      seen.add(name.toLowerCase());
    }
  }

  const upstream = str(r.upstream);
  if (upstream !== undefined && upstream !== '' && !upstreamNames.includes(upstream)) {
    const near = suggest(upstream, upstreamNames);
    const hint =
      near !== undefined ? `did you mean "${near}"?` : upstreamNames.length > 0 ? `defined upstreams: ${upstreamNames.join(', ')}` : 'no upstreams are defined; add one under `upstreams`';
    report([...at, 'upstream'], 'value', 'missing_upstream', `upstream "${upstream}" is not defined`, hint);
  }
}
