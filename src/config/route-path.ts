// Route path pattern syntax. Pure.
//   /api            exact
//   /api/*          prefix: `*` only as the whole final segment
//   /api/{id}       parameter: `{name}` is a whole segment, name [A-Za-z_][A-Za-z0-9_]*, unique
//   /api/{id}/items mixed
// A trailing slash is allowed; empty segments (`//`), `?`, `#` and whitespace are not.

import { validatePattern } from '../router/pattern.js';

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Undefined when `path` is a valid pattern, else the reason. */
export function checkRoutePath(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with "/"';
  if (/[\s?#]/.test(path)) return 'must not contain whitespace, "?" or "#" (match query parameters with `query`)';
  const segments = path.slice(1).split('/');
  const names = new Set<string>();
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i];
    const last = i === segments.length - 1;
    if (seg === '' && !last) return 'must not contain an empty segment ("//")';
    if (seg === '.' || seg === '..') return `must not contain a "${seg}" segment (requests are matched after dot segments are removed)`;
    if (seg.startsWith(':')) return `"${seg}" would match literally; write a parameter as {${seg.slice(1)}}`;
    if (seg.includes('*')) {
      if (seg !== '*' || !last) return '"*" is only allowed as the whole last segment, as in /api/*';
      continue;
    }
    if (seg.includes('{') || seg.includes('}')) {
      const m = PARAM.exec(seg);
      if (m === null) return `"${seg}": a parameter is a whole segment {name}, name made of letters, digits and _`;
      if (names.has(m[1])) return `parameter {${m[1]}} appears twice`;
      names.add(m[1]);
    }
  }
  // Whatever else the router refuses (it compiles exactly these patterns).
  return validatePattern(path) ?? undefined;
}
