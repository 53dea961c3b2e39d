// strip_prefix semantics, in one place.
//
// A match carries `prefixLength`: how many characters of the normalised path the
// pattern consumed *before its wildcard tail*. Stripping removes exactly that many and
// keeps the result an absolute path:
//
//   /api/*        + /api/users      → /users      (prefix `/api`)
//   /api/*        + /api  or /api/  → /           (nothing or only `/` left)
//   /api/{id}/*   + /api/123/x      → /x          (the matched `/api/123`, params included)
//   /*            + /anything       → /anything   (prefix is empty: nothing to strip)
//   /api  /api/{id} (no wildcard)   → /           (the whole path was consumed)
//
// The query string is not part of `path`; the caller appends `?query` unchanged.

import type { RouteConfig } from '../config/types.js';

export interface PrefixMatch {
  readonly prefixLength: number;
}

/** HOT PATH. `path` with the matched prefix removed; always starts with `/`. */
export function stripPrefix(match: PrefixMatch, path: string): string {
  const n = match.prefixLength;
  if (n === 0) return path;
  return n >= path.length ? '/' : path.slice(n);
}

/** HOT PATH. The path to send upstream: stripped when the route says `strip_prefix`. */
export function upstreamPath(match: PrefixMatch & { readonly route: RouteConfig }, path: string): string {
  return match.route.strip_prefix ? stripPrefix(match, path) : path;
}
