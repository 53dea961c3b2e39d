// A JSON-able description of a compiled router: the routes in rank order with their
// parsed constraints, and the trie. Cold path; used by golden tests and (later) the
// admin API. Deterministic: same config in, same description out.

import type { RouteConfig } from '../config/types.js';
import type { Router, TrieDescription } from './router.js';

export interface RouteDescription {
  readonly rank: number;
  readonly id: string;
  readonly path: string;
  readonly kind: 'exact' | 'prefix';
  /** Segment kinds, e.g. `static/param/*` (prefix) or `static/$` (exact). */
  readonly shape: string;
  readonly params: readonly string[];
  readonly priority: number;
  readonly host: string | null;
  readonly methods: readonly string[] | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly upstream: string;
  readonly strip_prefix: boolean;
}

export interface RouterDescription {
  readonly routes: readonly RouteDescription[];
  readonly tree: TrieDescription;
}

export function describeRouter<R extends RouteConfig>(router: Router<R>): RouterDescription {
  const routes = router.routes().map((e): RouteDescription => ({
    rank: e.rank,
    id: e.route.id,
    path: e.route.path,
    kind: e.pattern.wildcard ? 'prefix' : 'exact',
    shape: e.pattern.shape,
    params: e.pattern.paramNames,
    priority: e.route.priority,
    host: e.host === null ? null : e.host.source,
    methods: e.methods,
    headers: sortedRecord(e.route.headers),
    query: sortedRecord(e.route.query),
    upstream: e.route.upstream,
    strip_prefix: e.route.strip_prefix,
  }));
  return { routes, tree: router.tree() };
}

function sortedRecord(r: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(r ?? {}).sort()) out[k] = r![k];
  return out;
}
