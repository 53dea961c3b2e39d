import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import type { RouteConfig } from '../../src/config/types.js';
import { compileRouter, stripPrefix, upstreamPath, type Router, type MatchResult } from '../../src/router/router.js';
import { RouteCompileError } from '../../src/router/route-compile-error.js';
import { parsePattern, validatePattern } from '../../src/router/pattern.js';
import { validateHostPattern } from '../../src/router/host-matcher.js';
import { describeRouter } from '../../src/router/describe-router.js';

function route(id: string, path: string, extra: Partial<RouteConfig> = {}): RouteConfig {
  return { id, path, priority: 0, upstream: 'backend', strip_prefix: false, retry_non_idempotent: false, ...extra };
}

interface Req {
  method?: string;
  host?: string;
  headers?: IncomingHttpHeaders;
  query?: string;
}

function m(router: Router, path: string, req: Req = {}): MatchResult {
  return router.match(req.method ?? 'GET', req.host, path, req.headers ?? {}, req.query ?? '');
}

/** The id of the winning route, 'method_not_allowed' or null. */
function id(router: Router, path: string, req: Req = {}): string | null {
  const r = m(router, path, req);
  if (r === null) return null;
  return r.kind === 'route' ? r.route.id : r.kind;
}

// --- pattern kinds ----------------------------------------------------------------------

test('exact pattern matches only itself; trailing slash is a different path', () => {
  const r = compileRouter([route('api', '/api')]);
  assert.equal(id(r, '/api'), 'api');
  assert.equal(id(r, '/api/'), null);
  assert.equal(id(r, '/apix'), null);
  assert.equal(id(r, '/api/x'), null);
  assert.equal(id(r, '/'), null);
  const slash = compileRouter([route('api-slash', '/api/')]);
  assert.equal(id(slash, '/api/'), 'api-slash');
  assert.equal(id(slash, '/api'), null);
});

test('root pattern / matches only /', () => {
  const r = compileRouter([route('root', '/')]);
  assert.equal(id(r, '/'), 'root');
  assert.equal(id(r, '/x'), null);
});

test('prefix pattern /api/* matches /api, /api/, deeper paths, not /apix', () => {
  const r = compileRouter([route('api', '/api/*')]);
  for (const p of ['/api', '/api/', '/api/users', '/api/a/b', '/api/a/b/']) assert.equal(id(r, p), 'api', p);
  for (const p of ['/apix', '/ap', '/', '/x/api']) assert.equal(id(r, p), null, p);
});

test('catch-all /* matches everything', () => {
  const r = compileRouter([route('all', '/*')]);
  for (const p of ['/', '/a', '/a/', '/a/b/c']) assert.equal(id(r, p), 'all', p);
});

test('param pattern matches one non-empty segment', () => {
  const r = compileRouter([route('item', '/api/{id}')]);
  const hit = m(r, '/api/123');
  assert.equal(hit?.kind, 'route');
  assert.deepEqual(hit?.kind === 'route' && hit.params, { id: '123' });
  assert.equal(id(r, '/api/'), null, 'empty segment is not a param');
  assert.equal(id(r, '/api'), null);
  assert.equal(id(r, '/api/1/2'), null);
});

test('mixed and combined patterns', () => {
  const r = compileRouter([
    route('items', '/api/{id}/items'),
    route('user-any', '/u/{id}/*'),
    route('pair', '/o/{org}/r/{repo}'),
  ]);
  const a = m(r, '/api/42/items');
  assert.ok(a?.kind === 'route' && a.route.id === 'items');
  assert.deepEqual(a.params, { id: '42' });
  assert.equal(id(r, '/api/42/other'), null);
  const b = m(r, '/u/alice/photos/1');
  assert.ok(b?.kind === 'route' && b.route.id === 'user-any');
  assert.deepEqual(b.params, { id: 'alice' });
  assert.equal(id(r, '/u/alice'), 'user-any');
  assert.equal(id(r, '/u'), null);
  const c = m(r, '/o/acme/r/loom');
  assert.ok(c?.kind === 'route');
  assert.deepEqual(c.params, { org: 'acme', repo: 'loom' });
});

test('params are returned as in the normalised path, not decoded further', () => {
  const r = compileRouter([route('u', '/u/{name}')]);
  const hit = m(r, '/u/caf%C3%A9');
  assert.ok(hit?.kind === 'route');
  assert.equal(hit.params.name, 'caf%C3%A9');
});

test('params of the winning route survive backtracking over other branches', () => {
  const r = compileRouter([
    route('deep', '/a/{x}/b/{y}/c'),
    route('other', '/a/{p}/b/{q}/*', { priority: -1 }),
    route('static', '/a/fixed/b/{z}/d'),
  ]);
  const hit = m(r, '/a/fixed/b/7/c');
  assert.ok(hit?.kind === 'route' && hit.route.id === 'deep');
  assert.deepEqual(hit.params, { x: 'fixed', y: '7' });
  const hit2 = m(r, '/a/fixed/b/7/e');
  assert.ok(hit2?.kind === 'route' && hit2.route.id === 'other');
  assert.deepEqual(hit2.params, { p: 'fixed', q: '7' });
});

test('routes without params return the same frozen match object (no allocation)', () => {
  const r = compileRouter([route('api', '/api/*'), route('x', '/x')]);
  const a = m(r, '/api/users');
  const b = m(r, '/api/orders');
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a));
  assert.equal(m(r, '/x'), m(r, '/x'));
});

// --- host ---------------------------------------------------------------------------

test('exact host: case-insensitive, port and trailing dot ignored', () => {
  const r = compileRouter([route('ex', '/*', { host: 'Example.com' })]);
  for (const h of ['example.com', 'EXAMPLE.COM', 'example.com:8080', 'example.com.', 'Example.Com.:443']) {
    assert.equal(id(r, '/', { host: h }), 'ex', h);
  }
  for (const h of ['a.example.com', 'example.org', 'xexample.com', '']) assert.equal(id(r, '/', { host: h }), null, h);
  assert.equal(id(r, '/', {}), null, 'no Host header');
});

test('IPv6 host literal with port', () => {
  const r = compileRouter([route('v6', '/*', { host: '[::1]' }), route('v6b', '/b', { host: '::1' })]);
  assert.equal(id(r, '/', { host: '[::1]:80' }), 'v6');
  assert.equal(id(r, '/', { host: '[::1]' }), 'v6');
  assert.equal(id(r, '/b', { host: '[::1]:8080' }), 'v6b');
  assert.equal(id(r, '/', { host: '[::2]:80' }), null);
});

test('wildcard host matches subdomains at any depth but not the apex', () => {
  const r = compileRouter([route('wild', '/*', { host: '*.example.com' })]);
  for (const h of ['a.example.com', 'a.b.example.com', 'A.Example.COM:80']) assert.equal(id(r, '/', { host: h }), 'wild', h);
  for (const h of ['example.com', '.example.com', 'aexample.com', 'example.com.evil']) {
    assert.equal(id(r, '/', { host: h }), null, h);
  }
});

test('a route without host matches any host, including none', () => {
  const r = compileRouter([route('any', '/x')]);
  assert.equal(id(r, '/x', { host: 'whatever:1' }), 'any');
  assert.equal(id(r, '/x'), 'any');
});

// --- methods and 405 -------------------------------------------------------------------

test('methods: 405 with the sorted union of allowed methods', () => {
  const r = compileRouter([
    route('read', '/items', { methods: ['GET'] }),
    route('write', '/items', { methods: ['PUT', 'POST'] }),
    route('other-host', '/items', { methods: ['PATCH'], host: 'admin.local' }),
  ]);
  assert.equal(id(r, '/items', { method: 'GET' }), 'read');
  assert.equal(id(r, '/items', { method: 'POST' }), 'write');
  assert.deepEqual(m(r, '/items', { method: 'DELETE' }), { kind: 'method_not_allowed', allow: ['GET', 'HEAD', 'POST', 'PUT'] });
  assert.deepEqual(m(r, '/items', { method: 'DELETE', host: 'admin.local' }), {
    kind: 'method_not_allowed',
    allow: ['GET', 'HEAD', 'PATCH', 'POST', 'PUT'],
  });
  assert.equal(id(r, '/nothing', { method: 'DELETE' }), null, 'unknown path stays 404');
});

test('GET implies HEAD (RFC 9110), nothing else is implied', () => {
  const r = compileRouter([route('get', '/g', { methods: ['GET'] }), route('post', '/p', { methods: ['POST'] })]);
  assert.equal(id(r, '/g', { method: 'HEAD' }), 'get');
  assert.deepEqual(m(r, '/p', { method: 'HEAD' }), { kind: 'method_not_allowed', allow: ['POST'] });
  assert.deepEqual(m(r, '/g', { method: 'POST' }), { kind: 'method_not_allowed', allow: ['GET', 'HEAD'] });
});

test('a route that does not allow the method lets a less specific route win', () => {
  const r = compileRouter([route('admin-post', '/api/admin', { methods: ['POST'] }), route('api', '/api/*')]);
  assert.equal(id(r, '/api/admin', { method: 'POST' }), 'admin-post');
  assert.equal(id(r, '/api/admin', { method: 'GET' }), 'api');
});

test('405 only counts routes whose other constraints hold', () => {
  const r = compileRouter([route('h', '/x', { methods: ['POST'], headers: { 'x-v': '1' } })]);
  assert.equal(m(r, '/x', { method: 'GET' }), null);
  assert.deepEqual(m(r, '/x', { method: 'GET', headers: { 'x-v': '1' } }), { kind: 'method_not_allowed', allow: ['POST'] });
});

// --- headers and query -------------------------------------------------------------------

test('header matchers: exact value; array values match any element', () => {
  const r = compileRouter([
    route('v2', '/api/*', { headers: { 'x-version': '2' } }),
    route('v1', '/api/*'),
    route('cookie', '/c', { headers: { 'set-cookie': 'a=1' } }),
  ]);
  assert.equal(id(r, '/api/x', { headers: { 'x-version': '2' } }), 'v2');
  assert.equal(id(r, '/api/x', { headers: { 'x-version': '3' } }), 'v1');
  assert.equal(id(r, '/api/x', { headers: { 'x-version': '2 ' } }), 'v1');
  assert.equal(id(r, '/api/x'), 'v1');
  assert.equal(id(r, '/c', { headers: { 'set-cookie': ['b=2', 'a=1'] } }), 'cookie');
  assert.equal(id(r, '/c', { headers: { 'set-cookie': ['b=2'] } }), null);
});

test('query matchers: URLSearchParams decoding, first value wins', () => {
  const r = compileRouter([
    route('beta', '/s', { query: { channel: 'beta test' } }),
    route('two', '/s', { query: { a: '1', b: '2' } }),
    route('plain', '/s'),
  ]);
  assert.equal(id(r, '/s', { query: 'channel=beta+test' }), 'beta');
  assert.equal(id(r, '/s', { query: 'channel=beta%20test' }), 'beta');
  assert.equal(id(r, '/s', { query: 'channel=beta' }), 'plain');
  assert.equal(id(r, '/s', { query: 'x=1&channel=beta+test&channel=other' }), 'beta');
  assert.equal(id(r, '/s', { query: 'channel=other&channel=beta+test' }), 'plain');
  assert.equal(id(r, '/s', { query: 'b=2&a=1' }), 'two');
  assert.equal(id(r, '/s', { query: 'a=1' }), 'plain');
  assert.equal(id(r, '/s'), 'plain');
});

test('the query is not parsed for routes without query matchers', () => {
  const original = globalThis.URLSearchParams;
  let parsed = 0;
  globalThis.URLSearchParams = class extends original {
    constructor(init?: string) {
      super(init);
      parsed++;
    }
  } as typeof URLSearchParams;
  try {
    const r = compileRouter([route('a', '/a'), route('q', '/q', { query: { k: 'v' } })]);
    assert.equal(id(r, '/a', { query: 'k=v' }), 'a');
    assert.equal(parsed, 0);
    assert.equal(id(r, '/q', { query: 'k=v' }), 'q');
    assert.equal(parsed, 1);
  } finally {
    globalThis.URLSearchParams = original;
  }
});

// --- selection ------------------------------------------------------------------------

test('specificity: static > param > wildcard, exact beats prefix, more segments win', () => {
  const r = compileRouter([
    route('all', '/*'),
    route('api-prefix', '/api/*'),
    route('api-exact', '/api'),
    route('param', '/api/{id}'),
    route('static', '/api/me'),
    route('param-prefix', '/api/{id}/*'),
    route('deep', '/api/{id}/items'),
  ]);
  assert.equal(id(r, '/api'), 'api-exact');
  assert.equal(id(r, '/api/'), 'api-prefix');
  assert.equal(id(r, '/api/me'), 'static');
  assert.equal(id(r, '/api/42'), 'param', 'exact param beats param prefix');
  assert.equal(id(r, '/api/42/items'), 'deep');
  assert.equal(id(r, '/api/42/other'), 'param-prefix');
  assert.equal(id(r, '/api/me/items'), 'deep', 'param then static beats static then wildcard');
  assert.equal(id(r, '/other'), 'all');
  assert.deepEqual(
    r.routes().map((e) => e.route.id),
    ['static', 'deep', 'param', 'param-prefix', 'api-exact', 'api-prefix', 'all'],
  );
});

test('priority beats specificity; config order breaks ties', () => {
  const r = compileRouter([
    route('specific', '/api/users'),
    route('greedy', '/api/*', { priority: 10 }),
    route('first', '/x/*'),
    route('second', '/x/*'),
  ]);
  assert.equal(id(r, '/api/users'), 'greedy');
  assert.equal(id(r, '/x/1'), 'first');
  const reversed = compileRouter([route('second', '/x/*'), route('first', '/x/*')]);
  assert.equal(id(reversed, '/x/1'), 'second');
});

test('a higher-ranked candidate that fails a constraint falls back to the next one', () => {
  const r = compileRouter([
    route('a', '/p/*', { priority: 6, host: 'a.test' }),
    route('b', '/p/{id}', { priority: 5 }),
    route('c', '/p/x'),
  ]);
  assert.equal(id(r, '/p/x', { host: 'a.test' }), 'a');
  assert.equal(id(r, '/p/x', { host: 'b.test' }), 'b');
  assert.equal(id(r, '/p/x/y', { host: 'b.test' }), null);
});

test('property: match agrees with a brute-force reference over rank order', () => {
  const segs = ['a', 'b', '{p}', '{q}'];
  const patternArb = fc
    .tuple(fc.array(fc.constantFrom(...segs), { maxLength: 3 }), fc.boolean())
    .map(([parts, wild]) => {
      const named = parts.map((s, i) => (s.startsWith('{') ? `{${s.slice(1, -1)}${i}}` : s));
      const base = '/' + named.join('/');
      return wild ? (base === '/' ? '/*' : base + '/*') : base;
    });
  const routeArb = fc.record({
    path: patternArb,
    priority: fc.integer({ min: 0, max: 2 }),
    methods: fc.option(fc.constantFrom(['GET'], ['POST'], ['GET', 'POST']), { nil: undefined }),
  });
  const pathArb = fc.array(fc.constantFrom('a', 'b', 'c', ''), { maxLength: 4 }).map((p) => '/' + p.join('/'));
  fc.assert(
    fc.property(fc.array(routeArb, { minLength: 1, maxLength: 8 }), pathArb, fc.constantFrom('GET', 'POST'), (specs, rawPath, method) => {
      const path = rawPath.replace(/\/+/g, '/');
      const routes = specs.map((s, i) => route(`r${i}`, s.path, { priority: s.priority, methods: s.methods }));
      const r = compileRouter(routes);
      // Reference: regex per pattern, first in rank order that matches path + method.
      const toRe = (p: string): RegExp => {
        const wild = p.endsWith('/*');
        const body = (wild ? p.slice(0, -2) : p).replace(/\{[^}]+\}/g, '[^/]+');
        return new RegExp('^' + body + (wild ? '(/.*)?' : '') + '$');
      };
      const pathOk = r.routes().filter((e) => toRe(e.route.path).test(path));
      const winner = pathOk.find((e) => !e.route.methods || e.route.methods.includes(method));
      const got = m(r, path, { method });
      if (winner) {
        assert.ok(got?.kind === 'route', `${path}: expected ${winner.route.id}`);
        assert.equal(got.route.id, winner.route.id, `${method} ${path}`);
      } else if (pathOk.length > 0) {
        assert.equal(got?.kind, 'method_not_allowed');
      } else {
        assert.equal(got, null);
      }
    }),
    { numRuns: 3000 },
  );
});

// --- strip_prefix --------------------------------------------------------------------

test('stripPrefix removes the matched prefix before the wildcard', () => {
  const r = compileRouter([
    route('api', '/api/*', { strip_prefix: true }),
    route('user', '/u/{id}/*', { strip_prefix: true }),
    route('all', '/*', { strip_prefix: true }),
    route('exact', '/exact', { strip_prefix: true }),
    route('param', '/p/{id}', { strip_prefix: true }),
    route('keep', '/keep/*'),
  ]);
  const strip = (path: string): string => {
    const hit = m(r, path);
    assert.ok(hit?.kind === 'route', path);
    return stripPrefix(hit, path);
  };
  assert.equal(strip('/api/users'), '/users');
  assert.equal(strip('/api/users/1/'), '/users/1/');
  assert.equal(strip('/api'), '/');
  assert.equal(strip('/api/'), '/');
  assert.equal(strip('/u/123/photos'), '/photos');
  assert.equal(strip('/u/123'), '/');
  assert.equal(strip('/other/x'), '/other/x');
  assert.equal(strip('/exact'), '/');
  assert.equal(strip('/p/9'), '/');
  const keep = m(r, '/keep/x');
  assert.ok(keep?.kind === 'route');
  assert.equal(upstreamPath(keep, '/keep/x'), '/keep/x');
  const api = m(r, '/api/x');
  assert.ok(api?.kind === 'route');
  assert.equal(upstreamPath(api, '/api/x'), '/x');
});

// --- compile errors, explain, describe ----------------------------------------------

test('invalid patterns, hosts and method lists are rejected at compile time', () => {
  for (const p of ['api', '', '/api//x', '/api/*/x', '/api*', '/a/{id', '/a/{}', '/a/{1x}', '/a/{id}/{id}', '/a/../b', '/a/%2e', '/a/%2F', '/{__proto__}', '/a/x{id}']) {
    assert.notEqual(validatePattern(p), null, p);
    assert.throws(() => compileRouter([route('bad', p)]), (e: unknown) => e instanceof RouteCompileError && e.code === 'bad_pattern', p);
  }
  for (const h of ['', '*', 'example.com:80', 'a.*.com', '*.', '[::1', 'a b']) {
    assert.notEqual(validateHostPattern(h), null, h);
    assert.throws(() => compileRouter([route('bad', '/', { host: h })]), RouteCompileError, h);
  }
  assert.throws(() => compileRouter([route('bad', '/', { methods: [] })]), RouteCompileError);
});

test('static pattern segments are normalised like request paths', () => {
  assert.deepEqual(parsePattern('/%7euser/caf%c3%a9').segments, [
    { kind: 'static', value: '~user' },
    { kind: 'static', value: 'caf%C3%A9' },
  ]);
  const r = compileRouter([route('t', '/%7Euser')]);
  assert.equal(id(r, '/~user'), 't');
});

test('many static children use the bucket index', () => {
  const routes = Array.from({ length: 50 }, (_, i) => route(`r${i}`, `/s${i}/x`));
  routes.push(route('ab', '/ab/x'), route('ac', '/ac/x'), route('empty', '/z/'));
  const r = compileRouter(routes);
  for (let i = 0; i < 50; i++) assert.equal(id(r, `/s${i}/x`), `r${i}`);
  assert.equal(id(r, '/ab/x'), 'ab');
  assert.equal(id(r, '/ac/x'), 'ac');
  assert.equal(id(r, '/ad/x'), null);
  assert.equal(id(r, '/s50/x'), null);
});

test('explain says which route matched or why none did', () => {
  const r = compileRouter([
    route('admin', '/api/*', { host: 'admin.test', priority: 1 }),
    route('users', '/api/{id}', { methods: ['GET'] }),
    route('all', '/*', { headers: { 'x-debug': '1' } }),
  ]);
  const ok = r.explain('GET', 'example.com', '/api/7', {}, '');
  assert.match(ok, /→ route "users"/);
  assert.match(ok, /route "admin" \(\/api\/\*\) matches the path but not host example\.com \(wants admin\.test\)/);
  assert.match(ok, /route "users" \(\/api\/\{id\}\) wins/);
  assert.match(ok, /route "all" \(\/\*\) matches the path but not header x-debug/);
  const bad = r.explain('DELETE', undefined, '/api/7', {}, '');
  assert.match(bad, /405: method not allowed \(allow GET, HEAD\)/);
  assert.match(bad, /not method DELETE \(allows GET, HEAD\)/);
  const none = compileRouter([route('a', '/a')]).explain('GET', undefined, '/foo', {}, '');
  assert.match(none, /no route pattern matches \/foo/);
});

test('describeRouter is JSON-able and lists routes in rank order', () => {
  const r = compileRouter([route('all', '/*'), route('item', '/api/{id}', { methods: ['POST', 'GET'] })]);
  const d = describeRouter(r);
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d);
  assert.deepEqual(
    d.routes.map((x) => [x.rank, x.id, x.kind, x.shape, x.methods]),
    [
      [0, 'item', 'exact', 'static/param/$', ['GET', 'HEAD', 'POST']],
      [1, 'all', 'prefix', '*', null],
    ],
  );
  assert.deepEqual(d.tree, { wildcard: ['all'], static: { api: { param: { end: ['item'] } } } });
});

test('a path that is not normalised-absolute matches nothing', () => {
  const r = compileRouter([route('all', '/*')]);
  assert.equal(id(r, ''), null);
  assert.equal(id(r, 'x'), null);
});

test('at equal priority and pattern, the more constrained route wins regardless of config order', () => {
  const r = compileRouter([
    route('generic', '/api/*'),
    route('wild', '/api/*', { host: '*.example.com' }),
    route('exact', '/api/*', { host: 'admin.example.com' }),
    route('header', '/api/*', { headers: { 'x-beta': '1' } }),
  ]);
  assert.equal(id(r, '/api/x', { host: 'admin.example.com' }), 'exact');
  assert.equal(id(r, '/api/x', { host: 'shop.example.com' }), 'wild');
  assert.equal(id(r, '/api/x', { host: 'other.org', headers: { 'x-beta': '1' } }), 'header');
  assert.equal(id(r, '/api/x', { host: 'other.org' }), 'generic');
});
