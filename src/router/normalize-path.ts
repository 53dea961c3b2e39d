// Request-path normalisation: the one canonical form the router matches against and
// the proxy forwards. Pure, synchronous, no URL object.
//
// Contract of normalizePath(rawPath):
//   input   the path part of the request-target (everything before `?`), as received.
//   output  the normalised path, or null → answer 400 (LOOM_ERR_BAD_PATH).
//
// Rules, in order of application:
//   1. Must be non-empty and start with `/` (origin-form). Absolute-form and `*` are
//      the caller's business.
//   2. Rejected (null): raw control characters (0x00–0x1F, 0x7F), a raw `\`, a malformed
//      escape (`%zz`, `%4`, trailing `%`), `%00`, an encoded slash (`%2F`/`%2f`) and an
//      encoded backslash (`%5C`/`%5c`). Encoded slashes are refused rather than kept,
//      so a segment can never hide a `/` from the router while the upstream decodes it.
//   3. Percent-escapes of unreserved characters (ALPHA / DIGIT / `-` `.` `_` `~`) are
//      decoded; every other escape is kept with its hex in upper case (`%c3%a9` →
//      `%C3%A9`). Other encoded control characters (`%0A`, `%7F` …) stay encoded and are
//      not rejected. Raw bytes ≥ 0x80 (which Node hands over as latin1 chars) are kept.
//   4. Repeated slashes are merged (`/a//b` → `/a/b`, `//` → `/`). Decision: an empty
//      segment is never meaningful for routing, and keeping it would let `/api//admin`
//      slip past a route that guards `/api/admin`. A trailing slash is kept (`/a/` stays
//      `/a/`): `/api` and `/api/` are different paths.
//   5. Dot segments are removed as in RFC 3986 §5.2.4, after decoding (so `%2e%2e` and
//      `.%2E` count as `..`). `..` at the root stays at the root (`/api/../../x` → `/x`).
//      A final `.` or `..` leaves a trailing slash (`/a/b/..` → `/a/`), as the RFC does.
//
// The result always starts with `/`, contains no `.`/`..` segment and no `//`, and
// normalizePath(normalizePath(p)) === normalizePath(p).
//
// Cost: HOT PATH. When the path has no `%`, no `\`, no `//` and no `.`/`..` segment
// (a `.` inside a segment such as `/app.js` is fine) it is returned unchanged after
// one charCode scan, with no allocation. Otherwise the slow path builds a new string.

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const DEL = 0x7f;

const HEX_UPPER = '0123456789ABCDEF';

export function normalizePath(rawPath: string): string | null {
  const len = rawPath.length;
  if (len === 0 || rawPath.charCodeAt(0) !== SLASH) return null;

  // HOT PATH: a single scan; returns the input itself when it is already canonical.
  for (let i = 0; i < len; i++) {
    const c = rawPath.charCodeAt(i);
    if (c < 0x20 || c === DEL || c === BACKSLASH) return null;
    if (c === PERCENT) return normalizeSlow(rawPath);
    if (c === SLASH && i + 1 < len) {
      const n = rawPath.charCodeAt(i + 1);
      if (n === SLASH) return normalizeSlow(rawPath);
      if (n === DOT && isDotSegmentAt(rawPath, i + 1)) return normalizeSlow(rawPath);
    }
  }
  return rawPath;
}

/** True when `p[i]` starts a `.` or `..` segment (followed by `/` or the end). */
function isDotSegmentAt(p: string, i: number): boolean {
  const len = p.length;
  const a = i + 1;
  if (a === len) return true;
  const c = p.charCodeAt(a);
  if (c === SLASH) return true;
  if (c !== DOT) return false;
  return a + 1 === len || p.charCodeAt(a + 1) === SLASH;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d || // -
    b === DOT ||
    b === 0x5f || // _
    b === 0x7e // ~
  );
}

/**
 * Cold-ish path: decodes, merges slashes and removes dot segments. Walks the path once,
 * segment by segment, keeping a stack of output segments.
 */
function normalizeSlow(raw: string): string | null {
  const len = raw.length;
  const out: string[] = [];
  let i = 1; // raw[0] === '/'
  for (;;) {
    // Read one segment [i, end) and decode it.
    let seg = '';
    let chunk = i;
    while (i < len) {
      const c = raw.charCodeAt(i);
      if (c === SLASH) break;
      if (c < 0x20 || c === DEL || c === BACKSLASH) return null;
      if (c === PERCENT) {
        if (i + 2 >= len) return null;
        const h1 = hexValue(raw.charCodeAt(i + 1));
        const h2 = hexValue(raw.charCodeAt(i + 2));
        if (h1 < 0 || h2 < 0) return null;
        const b = h1 * 16 + h2;
        if (b === 0 || b === SLASH || b === BACKSLASH) return null;
        seg += raw.slice(chunk, i);
        seg += isUnreserved(b) ? String.fromCharCode(b) : '%' + HEX_UPPER[h1] + HEX_UPPER[h2];
        i += 3;
        chunk = i;
        continue;
      }
      i++;
    }
    seg += raw.slice(chunk, i);
    const last = i >= len;
    if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else if (seg === '.' || seg === '') {
      // `.` is dropped; an empty segment is a repeated slash (merged) unless it is the
      // trailing one, which keeps the trailing slash.
      if (last) out.push('');
    } else {
      out.push(seg);
    }
    if (last) break;
    i++; // skip the '/'
  }
  return '/' + out.join('/');
}
