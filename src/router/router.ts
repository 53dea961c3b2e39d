// The router: compiled once per config snapshot (cold path), then matched per request
// (hot path). Pure: no sockets, no timers, no module-level state.
//
// Matching semantics
//   Input path: the output of normalizePath (never re-normalised here; a path not
//   starting with `/` matches nothing).
//   A route matches a request when its path pattern, host, headers, query AND method
//   constraints all hold. Among matching routes the winner is the one with the best
//   rank. Ranks are a total order fixed at compile time:
//     1. higher `priority` first;
//     2. then the more specific pattern: compare segment by segment, static > param >
//        wildcard; more segments beat fewer; exact beats prefix (see pattern.ts);
//     3. then the more constrained route: an exact host beats a `*.` host beats none,
//        then more header and query matchers, then a `methods` list (Kong orders
//        routes the same way, so a host-specific route is not shadowed by a generic one);
//     4. then config order.
//   Method is a constraint like the others: a route that does not allow the method is
//   skipped and a lower-ranked route may win (`GET /api/admin` falls through to
//   `/api/*` when `/api/admin` only allows POST).
//   405: when no route matches but at least one route matches everything except the
//   method, the result is { kind: 'method_not_allowed', allow } with the sorted union of
//   those routes' methods. A route that allows GET also allows HEAD (RFC 9110 §9.3.2: a
//   server that supports GET supports HEAD; nginx does the same). Methods compare
//   case-sensitively (RFC 9110).
//   null: nothing matches (404).
//
//   host      see host-matcher.ts (case-insensitive, port and trailing dot ignored).
//   headers   `headers[name] === value`; names are lower-case as Node delivers them.
//             Node joins most repeated headers with ", "; for the array-valued ones
//             (set-cookie) any element may match.
//   query     parsed with URLSearchParams (so `+` is a space and escapes are decoded),
//             only when a candidate route has query matchers; the first value of a
//             repeated parameter is the one compared. Routes without query matchers
//             never cause the query to be parsed.
//   params    returned as they appear in the normalised path: unreserved escapes are
//             already decoded, other escapes stay (`/u/caf%C3%A9` → id `caf%C3%A9`).
//
// Cost (HOT PATH: match): the path is walked once per trie level (charCodeAt, computing
// the segment's hash on the way); static children are found by hash without slicing. Each node's candidates are sorted by rank, so the
// first one that passes its constraints is that node's best; the walk backtracks over
// static, param and wildcard branches keeping the best rank seen, and skips subtrees
// whose best possible rank cannot beat it. A match on a route without params returns a
// preallocated frozen object: zero allocation. With params: the match object, the
// params object and the param substrings. Routes with query matchers: one
// URLSearchParams per distinct query string (cached on the router). No regex, no
// closures, no split().

import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../config/types.js';
import { parsePattern, compareSpecificity, staticMatchLength, type PathPattern } from './pattern.js';
import { parseHostPattern, requestHostEnd, matchHost, type HostPattern } from './host-matcher.js';
import { RouteCompileError } from './route-compile-error.js';
import { TrieNode, segmentHash } from './trie-node.js';

export { stripPrefix, upstreamPath } from './strip-prefix.js';

export interface RouteMatch<R extends RouteConfig = RouteConfig> {
  readonly kind: 'route';
  readonly route: R;
  /** Param name → segment as in the normalised path. Frozen and shared when empty. */
  readonly params: Readonly<Record<string, string>>;
  /** Characters of the path consumed before the wildcard tail; see strip-prefix.ts. */
  readonly prefixLength: number;
}

export interface MethodNotAllowed {
  readonly kind: 'method_not_allowed';
  /** Sorted, de-duplicated; goes into the `Allow` response header. */
  readonly allow: readonly string[];
}

export type MatchResult<R extends RouteConfig = RouteConfig> = RouteMatch<R> | MethodNotAllowed | null;

/** A compiled route, as listed by Router.routes() (rank order). */
export interface RouteEntry<R extends RouteConfig = RouteConfig> {
  /** 0 is the best. */
  readonly rank: number;
  /** Position in the config's route list. */
  readonly index: number;
  readonly route: R;
  readonly pattern: PathPattern;
  readonly host: HostPattern | null;
  /** Sorted, de-duplicated; null = every method. */
  readonly methods: readonly string[] | null;
}

/** JSON-able shape of the trie, for describeRouter. */
export interface TrieDescription {
  readonly end?: readonly string[];
  readonly wildcard?: readonly string[];
  readonly static?: Readonly<Record<string, TrieDescription>>;
  readonly param?: TrieDescription;
}

export interface Router<R extends RouteConfig = RouteConfig> {
  /** HOT PATH. `path` must be normalised; `rawQuery` is the query without `?` ('' if none). */
  match(
    method: string,
    host: string | undefined,
    path: string,
    headers: IncomingHttpHeaders,
    rawQuery: string,
  ): RouteMatch<R> | MethodNotAllowed | null;
  /** Cold path (debug logs): which route matched, or why none did. Multi-line. */
  explain(method: string, host: string | undefined, path: string, headers: IncomingHttpHeaders, rawQuery: string): string;
  /** Compiled routes, best rank first. */
  routes(): readonly RouteEntry<R>[];
  /** Cold path: the trie, for describeRouter and debugging. */
  tree(): TrieDescription;
}

interface CompiledRoute<R extends RouteConfig> extends RouteEntry<R> {
  readonly methodSet: ReadonlySet<string> | null;
  readonly headerNames: readonly string[];
  readonly headerValues: readonly string[];
  readonly queryNames: readonly string[];
  readonly queryValues: readonly string[];
  /** Preallocated result for routes without params; null when the route has params. */
  readonly fixedMatch: RouteMatch<R> | null;
}

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const EMPTY_HEADERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;

/** Cold path. Throws RouteCompileError on a bad pattern, host or method list. */
export function compileRouter<R extends RouteConfig>(routes: readonly R[]): Router<R> {
  return new CompiledRouter(routes);
}

class CompiledRouter<R extends RouteConfig> implements Router<R> {
  private readonly root = new TrieNode<CompiledRoute<R>>('');
  private readonly entries: readonly CompiledRoute<R>[];
  /** [start, end) of each param segment on the current walk, by param depth. */
  private readonly paramStack: Int32Array;
  /** Copy of paramStack taken when the current best was found. */
  private readonly bestParams: Int32Array;

  // Per-lookup scratch. match() is synchronous, so one set per router is enough; it is
  // reset before match returns so no request object outlives its lookup.
  private path = '';
  private method = '';
  private host = '';
  private hostEnd = -1;
  private headers: IncomingHttpHeaders = EMPTY_HEADERS;
  private rawQuery = '';
  private best: CompiledRoute<R> | null = null;
  private bestRank = Number.POSITIVE_INFINITY;
  private bestPrefix = 0;
  private methodMismatch = false;
  /** Cache of the last parsed query (keyed by value, so reuse across lookups is safe). */
  private qsSource: string | null = null;
  private qs: URLSearchParams | null = null;

  constructor(routes: readonly R[]) {
    const parsed = routes.map((route, index) => compileEntry(route, index));
    const order = parsed.slice().sort(
      (a, b) =>
        b.route.priority - a.route.priority ||
        compareSpecificity(a.pattern, b.pattern) ||
        constraintScore(b) - constraintScore(a) ||
        a.index - b.index,
    );
    let maxParams = 0;
    const entries: CompiledRoute<R>[] = [];
    order.forEach((p, rank) => {
      const fixedLength = staticMatchLength(p.pattern);
      const entry: CompiledRoute<R> = {
        ...p,
        rank,
        fixedMatch:
          fixedLength === undefined
            ? null
            : Object.freeze({ kind: 'route' as const, route: p.route, params: EMPTY_PARAMS, prefixLength: fixedLength }),
      };
      entries.push(Object.freeze(entry));
      maxParams = Math.max(maxParams, p.pattern.paramNames.length);
    });
    this.entries = Object.freeze(entries);
    this.paramStack = new Int32Array(2 * maxParams);
    this.bestParams = new Int32Array(2 * maxParams);
    for (const e of entries) {
      let node = this.root;
      for (const seg of e.pattern.segments) {
        node = seg.kind === 'static' ? node.staticChild(seg.value) : node.paramChild();
      }
      (e.pattern.wildcard ? node.wild : node.end).push(e);
    }
    this.root.finish();
  }

  routes(): readonly RouteEntry<R>[] {
    return this.entries;
  }

  // HOT PATH ---------------------------------------------------------------------------

  match(
    method: string,
    host: string | undefined,
    path: string,
    headers: IncomingHttpHeaders,
    rawQuery: string,
  ): RouteMatch<R> | MethodNotAllowed | null {
    if (path.length === 0 || path.charCodeAt(0) !== 0x2f) return null;
    this.path = path;
    this.method = method;
    this.host = host === undefined ? '' : host;
    this.hostEnd = requestHostEnd(host);
    this.headers = headers;
    this.rawQuery = rawQuery;
    this.best = null;
    this.bestRank = Number.POSITIVE_INFINITY;
    this.methodMismatch = false;

    this.walk(this.root, 0, 0);

    // (cast: TS narrowed this.best to null at the reset above; walk() assigns it)
    const best = this.best as CompiledRoute<R> | null;
    const mismatch = this.methodMismatch;
    this.best = null;
    this.headers = EMPTY_HEADERS;
    this.path = this.host = this.rawQuery = '';

    if (best !== null) {
      if (best.fixedMatch !== null) return best.fixedMatch;
      const names = best.pattern.paramNames;
      const bp = this.bestParams;
      const params: Record<string, string> = {};
      for (let i = 0; i < names.length; i++) params[names[i]] = path.slice(bp[2 * i], bp[2 * i + 1]);
      return { kind: 'route', route: best.route, params, prefixLength: this.bestPrefix };
    }
    return mismatch ? this.methodNotAllowed(method, host, path, headers, rawQuery) : null;
  }

  /** `pos` is the index of the `/` that starts the next segment, or path.length. */
  private walk(node: TrieNode<CompiledRoute<R>>, pos: number, depth: number): void {
    if (node.minRank >= this.bestRank) return; // nothing below can win
    const path = this.path;
    const len = path.length;
    if (pos === len) {
      if (node.end.length > 0) this.consider(node.end, depth, len);
      if (node.wild.length > 0) this.consider(node.wild, depth, pos);
      return;
    }
    // Find the segment's end and its hash in one pass (= segmentHash, inlined).
    const segStart = pos + 1;
    let segEnd = segStart;
    let h = 0;
    for (; segEnd < len; segEnd++) {
      const c = path.charCodeAt(segEnd);
      if (c === 0x2f) break;
      h = (Math.imul(h, 31) + c) | 0;
    }
    const segLen = segEnd - segStart;

    const child = node.findStatic(path, segStart, segLen, h & 0x3fffffff);
    if (child !== null) this.walk(child, segEnd, depth);
    const param = node.param;
    if (param !== null && segLen > 0) {
      const ps = this.paramStack;
      ps[2 * depth] = segStart;
      ps[2 * depth + 1] = segEnd;
      this.walk(param, segEnd, depth + 1);
    }
    if (node.wild.length > 0) this.consider(node.wild, depth, pos);
  }

  /** Takes the first candidate (rank order) that beats the best so far and passes. */
  private consider(list: readonly CompiledRoute<R>[], depth: number, prefixLength: number): void {
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      if (r.rank >= this.bestRank) return;
      if (!this.accepts(r)) continue;
      if (r.methodSet !== null && !r.methodSet.has(this.method)) {
        this.methodMismatch = true;
        continue;
      }
      this.best = r;
      this.bestRank = r.rank;
      this.bestPrefix = prefixLength;
      const n = 2 * depth;
      const from = this.paramStack;
      const to = this.bestParams;
      for (let j = 0; j < n; j++) to[j] = from[j];
      return;
    }
  }

  /** Host, header and query constraints (not the method). */
  private accepts(r: CompiledRoute<R>): boolean {
    const hp = r.host;
    if (hp !== null && (this.hostEnd < 0 || !matchHost(hp, this.host, this.hostEnd))) return false;
    const hn = r.headerNames;
    for (let i = 0; i < hn.length; i++) {
      if (!headerEquals(this.headers[hn[i]], r.headerValues[i])) return false;
    }
    const qn = r.queryNames;
    if (qn.length > 0) {
      const qs = this.parsedQuery();
      for (let i = 0; i < qn.length; i++) {
        if (qs.get(qn[i]) !== r.queryValues[i]) return false;
      }
    }
    return true;
  }

  private parsedQuery(): URLSearchParams {
    if (this.qs === null || this.qsSource !== this.rawQuery) {
      this.qs = new URLSearchParams(this.rawQuery);
      this.qsSource = this.rawQuery;
    }
    return this.qs;
  }

  // COLD PATH --------------------------------------------------------------------------

  private methodNotAllowed(
    method: string,
    host: string | undefined,
    path: string,
    headers: IncomingHttpHeaders,
    rawQuery: string,
  ): MethodNotAllowed | null {
    const allow = new Set<string>();
    for (const hit of this.pathHits(path)) {
      const why = whyNot(hit.entry, method, host, headers, rawQuery);
      if (why === null) return null; // cannot happen: match() would have found it
      if (why.kind === 'method') for (const m of hit.entry.methods ?? []) allow.add(m);
    }
    return { kind: 'method_not_allowed', allow: Object.freeze([...allow].sort()) };
  }

  /** Every route whose pattern matches `path`, rank order, with params and prefix. */
  private pathHits(path: string): PathHit<R>[] {
    const hits: PathHit<R>[] = [];
    if (path.length === 0 || path.charCodeAt(0) !== 0x2f) return hits;
    const visit = (node: TrieNode<CompiledRoute<R>>, pos: number, params: number[]): void => {
      const add = (list: readonly CompiledRoute<R>[], prefixLength: number): void => {
        for (const entry of list) {
          const values: Record<string, string> = {};
          entry.pattern.paramNames.forEach((n, i) => (values[n] = path.slice(params[2 * i], params[2 * i + 1])));
          hits.push({ entry, params: values, prefixLength });
        }
      };
      if (pos === path.length) {
        add(node.end, pos);
        add(node.wild, pos);
        return;
      }
      let end = path.indexOf('/', pos + 1);
      if (end === -1) end = path.length;
      const child = node.findStatic(path, pos + 1, end - pos - 1, segmentHash(path, pos + 1, end));
      if (child !== null) visit(child, end, params);
      if (node.param !== null && end > pos + 1) visit(node.param, end, [...params, pos + 1, end]);
      add(node.wild, pos);
    };
    visit(this.root, 0, []);
    return hits.sort((a, b) => a.entry.rank - b.entry.rank);
  }

  explain(method: string, host: string | undefined, path: string, headers: IncomingHttpHeaders, rawQuery: string): string {
    const req = `${method} ${host === undefined ? '(no host)' : host} ${path}${rawQuery === '' ? '' : '?' + rawQuery}`;
    const result = this.match(method, host, path, headers, rawQuery);
    const hits = this.pathHits(path);
    if (hits.length === 0) return `${req} → 404: no route pattern matches ${path}`;
    let head: string;
    let winner: CompiledRoute<R> | null = null;
    if (result === null) head = `${req} → 404: no route matches`;
    else if (result.kind === 'method_not_allowed') head = `${req} → 405: method not allowed (allow ${result.allow.join(', ')})`;
    else {
      winner = this.entries.find((e) => e.route === result.route) ?? null;
      head =
        `${req} → route "${result.route.id}" (${result.route.path}, rank ${winner?.rank})` +
        (Object.keys(result.params).length > 0 ? ` params ${JSON.stringify(result.params)}` : '');
    }
    const lines = [head];
    for (const hit of hits) {
      const e = hit.entry;
      const name = `  #${e.rank} route "${e.route.id}" (${e.route.path})`;
      if (e === winner) {
        lines.push(`${name} wins`);
        continue;
      }
      const why = whyNot(e, method, host, headers, rawQuery);
      if (why === null) lines.push(`${name} matches too but ranks lower`);
      else lines.push(`${name} matches the path but not ${why.text}`);
    }
    return lines.join('\n');
  }

  tree(): TrieDescription {
    const describe = (node: TrieNode<CompiledRoute<R>>): TrieDescription => {
      const d: {
        end?: string[];
        wildcard?: string[];
        static?: Record<string, TrieDescription>;
        param?: TrieDescription;
      } = {};
      if (node.end.length > 0) d.end = node.end.map((e) => e.route.id);
      if (node.wild.length > 0) d.wildcard = node.wild.map((e) => e.route.id);
      if (node.statics.length > 0) {
        d.static = {};
        for (const c of node.statics) d.static[c.segment] = describe(c);
      }
      if (node.param !== null) d.param = describe(node.param);
      return d;
    };
    return describe(this.root);
  }
}

interface PathHit<R extends RouteConfig> {
  readonly entry: CompiledRoute<R>;
  readonly params: Record<string, string>;
  readonly prefixLength: number;
}

/** Cold path: the first constraint (host, header, query, method) the route fails. */
function whyNot<R extends RouteConfig>(
  e: CompiledRoute<R>,
  method: string,
  host: string | undefined,
  headers: IncomingHttpHeaders,
  rawQuery: string,
): { kind: 'host' | 'header' | 'query' | 'method'; text: string } | null {
  if (e.host !== null) {
    const end = requestHostEnd(host);
    if (end < 0 || !matchHost(e.host, host ?? '', end)) {
      return { kind: 'host', text: `host ${host === undefined ? '(none)' : host} (wants ${e.host.source})` };
    }
  }
  for (let i = 0; i < e.headerNames.length; i++) {
    const got = headers[e.headerNames[i]];
    if (!headerEquals(got, e.headerValues[i])) {
      return {
        kind: 'header',
        text: `header ${e.headerNames[i]} (wants ${JSON.stringify(e.headerValues[i])}, got ${got === undefined ? 'none' : JSON.stringify(got)})`,
      };
    }
  }
  if (e.queryNames.length > 0) {
    const qs = new URLSearchParams(rawQuery);
    for (let i = 0; i < e.queryNames.length; i++) {
      const got = qs.get(e.queryNames[i]);
      if (got !== e.queryValues[i]) {
        return {
          kind: 'query',
          text: `query ${e.queryNames[i]} (wants ${JSON.stringify(e.queryValues[i])}, got ${got === null ? 'none' : JSON.stringify(got)})`,
        };
      }
    }
  }
  if (e.methodSet !== null && !e.methodSet.has(method)) {
    return { kind: 'method', text: `method ${method} (allows ${(e.methods ?? []).join(', ')})` };
  }
  return null;
}

/** HOT PATH. Exact header value; for array-valued headers any element may match. */
function headerEquals(got: string | string[] | undefined, want: string): boolean {
  if (got === undefined) return false;
  if (typeof got === 'string') return got === want;
  for (let i = 0; i < got.length; i++) if (got[i] === want) return true;
  return false;
}

/** Cold path: everything about one route except its rank. */
function compileEntry<R extends RouteConfig>(route: R, index: number): Omit<CompiledRoute<R>, 'rank' | 'fixedMatch'> {
  let pattern: PathPattern;
  try {
    pattern = parsePattern(route.path);
  } catch (err) {
    throw new RouteCompileError('bad_pattern', route.id, (err as Error).message);
  }
  let host: HostPattern | null = null;
  if (route.host !== undefined) {
    try {
      host = parseHostPattern(route.host);
    } catch (err) {
      throw new RouteCompileError('bad_host', route.id, (err as Error).message);
    }
  }
  let methods: readonly string[] | null = null;
  if (route.methods !== undefined) {
    if (route.methods.length === 0) {
      throw new RouteCompileError('bad_methods', route.id, 'methods is an empty list; leave it out to allow every method');
    }
    const listed = new Set(route.methods);
    if (listed.has('GET')) listed.add('HEAD');
    methods = Object.freeze([...listed].sort());
  }
  const headerEntries = Object.entries(route.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const queryEntries = Object.entries(route.query ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    index,
    route,
    pattern,
    host,
    methods,
    methodSet: methods === null ? null : new Set(methods),
    headerNames: Object.freeze(headerEntries.map(([n]) => n.toLowerCase())),
    headerValues: Object.freeze(headerEntries.map(([, v]) => v)),
    queryNames: Object.freeze(queryEntries.map(([n]) => n)),
    queryValues: Object.freeze(queryEntries.map(([, v]) => v)),
  };
}

/** Cold path: how constrained a route is, for rank rule 3. */
function constraintScore(e: { readonly route: RouteConfig; readonly host: HostPattern | null }): number {
  const hostScore = e.host === null ? 0 : e.host.kind === 'exact' ? 2 : 1;
  const matchers = Object.keys(e.route.headers ?? {}).length + Object.keys(e.route.query ?? {}).length;
  return hostScore * 1_000_000 + matchers * 10 + (e.route.methods !== undefined ? 1 : 0);
}
