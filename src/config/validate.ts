// Semantic checks the schema cannot express: references, uniqueness, address and path
// syntax, cross-field limits. Runs on the schema-shaped data even when the schema found
// problems, so it reads defensively and skips values of the wrong type (the schema
// already reported those).
import { bindsOverlap, hasScheme, parseHostPort, type HostPort } from './address.js';
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
  /** Listener index → its parsed address, for clash checks. */
  const bound: { index: number; at: HostPort }[] = [];
  listeners.forEach((l, i) => {
    const address = str(l.address);
    if (address === undefined || address === '') return;
    const r = parseHostPort(address, { allowEmptyHost: true, minPort: 0 });
    if (!r.ok) {
      report(['listeners', String(i), 'address'], 'value', 'invalid_address', `invalid listener address "${address}": ${r.reason}`,
        'write host:port, :port (every interface) or [v6]:port, e.g. ":8080"');
      return;
    }
    const clash = bound.find((b) => bindsOverlap(b.at, r.value));
    if (clash !== undefined) {
      const line = index.pos(['listeners', String(clash.index), 'address'], 'value').line;
      report(['listeners', String(i), 'address'], 'value', 'duplicate', `address "${address}" is already used by another listener (line ${line})`,
        'give each listener its own port (an address on every interface, like :8080, takes the port on all of them)');
    } else bound.push({ index: i, at: r.value });
  });

  const upstreams = items(data.upstreams);
  unique(upstreams, 'upstreams', 'name', 'upstream name');
  upstreams.forEach((u, i) => checkUpstream(u, ['upstreams', String(i)], report));

  const routes = items(data.routes);
  unique(routes, 'routes', 'id', 'route id');
  const upstreamNames = upstreams.map((u) => str(u.name)).filter((n): n is string => n !== undefined);
  routes.forEach((r, i) => checkRoute(r, ['routes', String(i)], upstreamNames, report));

  if (isObj(data.admin)) checkAdmin(data.admin, bound, upstreamNames, index, report);
  if (isObj(data.metrics) && isObj(data.metrics.prometheus)) {
    const path = str(data.metrics.prometheus.path);
    if (path !== undefined && !/^\/[\x21-\x7e]*$/.test(path)) {
      report(['metrics', 'prometheus', 'path'], 'value', 'invalid_path', `invalid metrics path "${path}"`, 'write an absolute path such as /metrics');
    } else if (path !== undefined && (ADMIN_PATHS.includes(path) || path.startsWith('/upstreams/'))) {
      report(['metrics', 'prometheus', 'path'], 'value', 'invalid_path', `metrics path "${path}" would hide an admin endpoint`, 'choose a path of its own, such as /metrics');
    }
  }
  if (isObj(data.tracing)) checkTracing(data.tracing, report);
  return out;
}

/** Paths the admin API serves itself (admin-server.ts `routes()`, plus everything under /upstreams/); the metrics path may not take one. */
const ADMIN_PATHS = ['/health', '/ready', '/upstreams', '/routes', '/config', '/plugins', '/reload'];

/** bcrypt as written by htpasswd -B, bcryptjs and most libraries. */
const BCRYPT_HASH = /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/;

function checkAdmin(admin: Obj, listenerAddresses: readonly { index: number; at: HostPort }[], upstreamNames: string[], index: SourceIndex, report: Report): void {
  const address = str(admin.address);
  if (address !== undefined && address !== '') {
    const r = parseHostPort(address, { allowEmptyHost: true, minPort: 0 });
    if (!r.ok) {
      report(['admin', 'address'], 'value', 'invalid_address', `invalid admin address "${address}": ${r.reason}`, 'write host:port, e.g. 127.0.0.1:9091');
    } else {
      const taken = listenerAddresses.find((b) => bindsOverlap(b.at, r.value));
      if (taken !== undefined) {
        const line = index.pos(['listeners', String(taken.index), 'address'], 'value').line;
        report(['admin', 'address'], 'value', 'duplicate', `admin address "${address}" is a data-plane listener's address (line ${line})`,
          'the admin API needs a port of its own, e.g. 127.0.0.1:9091');
      }
    }
  }
  const auth = admin.auth;
  if (isObj(auth)) {
    const users = isObj(auth.users) ? auth.users : {};
    for (const [user, hash] of Object.entries(users)) {
      if (typeof hash === 'string' && !BCRYPT_HASH.test(hash)) {
        report(['admin', 'auth', 'users', user], 'value', 'invalid_hash', `the password of admin user "${user}" is not a bcrypt hash`,
          "write a bcrypt hash, e.g. from `htpasswd -nbB user password` or `node -e \"console.log(require('bcryptjs').hashSync('password', 10))\"`");
      }
      if (user.includes(':')) report(['admin', 'auth', 'users', user], 'key', 'invalid_user', `admin user name "${user}" contains ':'`, 'HTTP Basic auth cannot carry it');
    }
    const hasCredentials = Object.keys(users).length > 0 || (typeof auth.token === 'string' && auth.token !== '');
    if (auth.enabled === true && !hasCredentials) {
      report(['admin', 'auth'], 'key', 'missing_credentials', 'admin auth is enabled but lists no users and no token', 'add `users` (bcrypt hashes) or a `token`');
    }
  }
  const readiness = admin.readiness;
  if (isObj(readiness) && Array.isArray(readiness.required_upstreams)) {
    readiness.required_upstreams.forEach((name, j) => {
      if (typeof name !== 'string' || upstreamNames.includes(name)) return;
      const near = suggest(name, upstreamNames);
      report(['admin', 'readiness', 'required_upstreams', String(j)], 'value', 'missing_upstream', `upstream "${name}" is not defined`,
        near !== undefined ? `did you mean "${near}"?` : `defined upstreams: ${upstreamNames.join(', ') || 'none'}`);
    });
  }
}

function checkTracing(t: Obj, report: Report): void {
  const provider = str(t.provider) ?? 'otlp';
  for (const block of ['otlp', 'jaeger', 'zipkin']) {
    if (t[block] !== undefined && block !== provider) {
      report(['tracing', block], 'key', 'ignored_setting', `\`tracing.${block}\` has no effect with provider ${provider}`,
        `set provider: ${block}, or move the settings under \`tracing.${provider}\``);
    }
  }
  const settings = t[provider];
  if (isObj(settings)) {
    const endpoint = str(settings.endpoint);
    if (endpoint !== undefined && endpoint !== '') {
      const isUrl = /^https?:\/\/[^/\s]+/i.test(endpoint);
      const hostPort = !isUrl && parseHostPort(endpoint, { allowEmptyHost: false, minPort: 1 }).ok;
      if (provider === 'zipkin' ? !isUrl : !isUrl && !hostPort) {
        report(['tracing', provider, 'endpoint'], 'value', 'invalid_endpoint', `invalid ${provider} endpoint "${endpoint}"`,
          provider === 'zipkin' ? 'write a URL, e.g. http://zipkin:9411/api/v2/spans' : 'write host:port (e.g. otel-collector:4317) or a URL (e.g. http://otel-collector:4318/v1/traces)');
      }
    }
  }
  const sampling = t.sampling;
  if (isObj(sampling) && sampling.ratio !== undefined && sampling.type !== undefined && sampling.type !== 'ratio') {
    report(['tracing', 'sampling', 'ratio'], 'key', 'ignored_setting', `\`ratio\` has no effect with sampling type ${String(sampling.type)}`,
      'set type: ratio, or remove the ratio');
  }
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
