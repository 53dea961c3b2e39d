// The config as `GET /config` shows it: a plain JSON-safe copy with every secret replaced
// by REDACTED. Redaction is by location (blocks whose values are all secrets) and, for
// everything else, by key name, so config blocks added later are covered without touching
// this file as long as their secret keys are named like secrets.

export const REDACTED = '[redacted]';

/**
 * Key names whose values are secrets. A key matches when, lower-cased with camelCase humps,
 * `-` and `.` turned into `_`, it is one of these or ends with `_` + one of these:
 * `password`, `redis_password`, `apiKey`, `APIKey`, `X-Api-Key`, `openai_api_key`, `aws_secret_access_key`.
 * Whole words only: `max_tokens`, `token_limit`, `hash_key`, `keepalive` are kept. Keys that
 * name where a secret lives (`key_file`, `password_file`, `token_url`) are kept too — a path
 * is not a secret, and hiding it makes the config harder to debug.
 */
export const SECRET_KEY_NAMES: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'client_secret',
  'token',
  'api_key',
  'apikey',
  'access_key',
  'secret_key',
  'private_key',
  'authorization',
  'credential',
  'credentials',
];

export const SECRET_KEY = new RegExp(`(?:^|_)(?:${SECRET_KEY_NAMES.join('|')})$`);

/**
 * Locations (key paths from the config root; `*` is any key) whose whole value is secret.
 * Map keys below them (user names, header names) are kept; every value is redacted.
 */
export const SECRET_PATHS: readonly (readonly string[])[] = [
  ['admin', 'auth', 'users'],
  ['admin', 'auth', 'token'],
  ['tracing', 'headers'],
];

export function isSecretKey(key: string): boolean {
  const normalized = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[-.\s]/g, '_');
  return SECRET_KEY.test(normalized);
}

/**
 * A deep copy of `config` made of plain objects, arrays and JSON primitives, with secrets
 * replaced by REDACTED. `config` is not modified. Empty strings, null and undefined are
 * kept (nothing to hide); any other value under a secret key is redacted, numbers and
 * booleans included (YAML reads `password: 1234` as a number). An object or array under a
 * secret key keeps its shape but has every leaf redacted.
 */
export function redactConfig(config: unknown): unknown {
  return copy(config, [], false, []);
}

function copy(value: unknown, path: readonly string[], secret: boolean, ancestors: object[]): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') return secret && value !== '' ? REDACTED : value;
  if (typeof value === 'number') return secret ? REDACTED : Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return secret ? REDACTED : value;
  if (typeof value === 'bigint') return secret ? REDACTED : value.toString();
  if (typeof value !== 'object') return undefined; // functions, symbols: not JSON
  if (value instanceof Date) return secret ? REDACTED : value.toISOString();
  if (ancestors.includes(value)) return '[circular]';
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item, i) => copy(item, [...path, String(i)], secret, ancestors) ?? null);
    }
    const entries: [string, unknown][] = value instanceof Map ? [...value].map(([k, v]) => [String(k), v]) : Object.entries(value);
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const childPath = [...path, key];
      const childSecret = secret || isSecretKey(key) || SECRET_PATHS.some((p) => matches(p, childPath));
      // defineProperty: a key named `__proto__` stays an own property instead of a prototype.
      Object.defineProperty(out, key, {
        value: copy(v, childPath, childSecret, ancestors),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

function matches(pattern: readonly string[], path: readonly string[]): boolean {
  return pattern.length === path.length && pattern.every((p, i) => p === '*' || p === path[i]);
}
