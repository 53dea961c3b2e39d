// Duration and size syntax shared by the schema formats, the adapter and the docs.
// Pure functions: no I/O, no state.

/** Milliseconds per unit, as Go's time.ParseDuration spells them. */
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration (`100ms`, `30s`, `1h30m`, `1.5s`, `500us`, `-2s`, `0`) into
 * milliseconds (possibly fractional). Returns undefined for anything else, including a
 * bare number other than `0` (a unit is required) and the empty string.
 */
export function parseDuration(s: string): number | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined;
  let i = 0;
  let sign = 1;
  if (s[0] === '+' || s[0] === '-') {
    sign = s[0] === '-' ? -1 : 1;
    i = 1;
  }
  if (s.slice(i) === '0') return 0;
  if (i === s.length) return undefined;
  let total = 0;
  while (i < s.length) {
    DURATION_PART.lastIndex = i;
    const m = DURATION_PART.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    i = DURATION_PART.lastIndex;
  }
  // Round away float noise such as 1.1s = 1100.0000000000002 ms, keeping ns precision.
  return sign * (Math.round(total * 1e6) / 1e6);
}

/** Bytes per unit. Decimal-looking units are base 1024, as in the Go original. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i;

/**
 * Parses a size (`512B`, `64KB`, `10MB`, `1GB`, `1.5GiB`; units case-insensitive,
 * base 1024, KiB/MiB/GiB/TiB accepted) into whole bytes, rounded down. A unit is
 * required. Returns undefined for anything else.
 */
export function parseSize(s: string): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = SIZE.exec(s.trim());
  if (m === null) return undefined;
  const unit = SIZE_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
