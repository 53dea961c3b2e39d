// Route path patterns: parsing (cold path) and specificity ordering.
//
// Grammar (the path is split on `/` after the leading one):
//   pattern   = "/" segment *( "/" segment ) [ "/*" ]   |   "/*"
//   segment   = static | "{" name "}"
//   name      = [A-Za-z_][A-Za-z0-9_]*  (not `__proto__`; unique within the pattern)
//   static    = any characters except `/ { } *`, in normalised form (see below)
//
//   /api            exact: only `/api` (not `/api/`, which is the different exact pattern
//                   `/api/`; a trailing empty segment is allowed only at the end)
//   /api/*          prefix: `/api`, `/api/`, `/api/users`, `/api/a/b`; not `/apix`
//   /api/{id}       one non-empty segment
//   /api/{id}/items mixed;  /u/{id}/* param then prefix;  /* catch-all;  / root only
//
// Static segments are stored in the form normalizePath produces (unreserved escapes
// decoded, other escapes upper-cased), because that is what they are compared to.
// `.`/`..` segments, `//` and characters normalizePath rejects make the pattern invalid.

import { normalizePath } from './normalize-path.js';

export type PatternSegment =
  | { readonly kind: 'static'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string };

export interface PathPattern {
  /** As written in the config. */
  readonly source: string;
  /** The segments before the wildcard (all of them for an exact pattern). */
  readonly segments: readonly PatternSegment[];
  /** True for `…/*` patterns, which match any (possibly empty) remainder. */
  readonly wildcard: boolean;
  readonly paramNames: readonly string[];
  /**
   * Specificity key: one character per segment, `3` static, `2` param, then a
   * terminator: `1` for the end of an exact pattern, `0` for the wildcard. A larger key
   * (plain string comparison) is more specific. This encodes: compare segment by
   * segment, static > param > wildcard; more segments beat fewer; exact beats prefix.
   */
  readonly specificity: string;
  /** Human-readable form of `specificity`, e.g. `static/param/*`, `static/$` for exact. */
  readonly shape: string;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Returns a message describing why `source` is not a valid pattern, or null. */
export function validatePattern(source: string): string | null {
  try {
    parsePattern(source);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Parses a pattern; throws Error with a human message when it is invalid. */
export function parsePattern(source: string): PathPattern {
  if (source.length === 0 || source.charCodeAt(0) !== 0x2f) {
    throw new Error(`path pattern "${source}" must start with "/"`);
  }
  const raw = source.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const paramNames: string[] = [];
  let wildcard = false;
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i];
    const last = i === raw.length - 1;
    if (s === '*') {
      if (!last) throw new Error(`path pattern "${source}": "*" is only allowed as the last segment`);
      wildcard = true;
      break;
    }
    if (s.startsWith('{') && s.endsWith('}')) {
      const name = s.slice(1, -1);
      if (!PARAM_NAME.test(name) || name === '__proto__') {
        throw new Error(`path pattern "${source}": bad parameter name "${name}" (use letters, digits and "_")`);
      }
      if (paramNames.includes(name)) {
        throw new Error(`path pattern "${source}": parameter "${name}" appears twice`);
      }
      paramNames.push(name);
      segments.push({ kind: 'param', name });
      continue;
    }
    if (/[{}*]/.test(s)) {
      throw new Error(
        `path pattern "${source}": segment "${s}" mixes text with "{", "}" or "*"; ` +
          'a parameter or a wildcard must be a whole segment',
      );
    }
    if (s === '' && !last) throw new Error(`path pattern "${source}" contains an empty segment ("//")`);
    if (s === '.' || s === '..') throw new Error(`path pattern "${source}" contains a "${s}" segment`);
    let value = s;
    if (s !== '') {
      const norm = normalizePath('/' + s);
      if (norm === null) {
        throw new Error(`path pattern "${source}": segment "${s}" has a bad escape or a forbidden character`);
      }
      value = norm.slice(1);
      if (value === '' || value.includes('/')) {
        throw new Error(`path pattern "${source}": segment "${s}" decodes to a dot segment`);
      }
    }
    segments.push({ kind: 'static', value });
  }
  let specificity = '';
  const shape: string[] = [];
  for (const seg of segments) {
    specificity += seg.kind === 'static' ? '3' : '2';
    shape.push(seg.kind);
  }
  specificity += wildcard ? '0' : '1';
  shape.push(wildcard ? '*' : '$');
  return Object.freeze({
    source,
    segments: Object.freeze(segments),
    wildcard,
    paramNames: Object.freeze(paramNames),
    specificity,
    shape: shape.join('/'),
  });
}

/** Negative when `a` is more specific than `b`, positive when less, 0 when equal. */
export function compareSpecificity(a: PathPattern, b: PathPattern): number {
  if (a.specificity === b.specificity) return 0;
  return a.specificity > b.specificity ? -1 : 1;
}

/**
 * Length of the literal path prefix a static-only prefix pattern consumes (`/api/*` → 4,
 * `/*` → 0), or of the whole path an exact static pattern matches (`/api` → 4, `/` → 1).
 * Undefined for patterns with parameters (the length depends on the request).
 */
export function staticMatchLength(p: PathPattern): number | undefined {
  let n = 0;
  for (const seg of p.segments) {
    if (seg.kind === 'param') return undefined;
    n += 1 + seg.value.length;
  }
  return n;
}
