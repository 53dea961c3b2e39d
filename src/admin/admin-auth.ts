// Authentication of the admin API: HTTP Basic against bcrypt hashes and/or one static
// bearer token. One instance per loaded config — the reloader builds a new one, so the
// verification cache never outlives a changed password or a removed user.

import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { AdminAuthConfig } from '../config/types.js';

/** Successful Basic verifications remembered per instance; the least recently used is dropped first. */
export const CACHE_LIMIT = 64;

/**
 * Compared against when the user is unknown, so such a request costs one bcrypt compare
 * like a known user's. Its cost field is rewritten to the configured hashes' cost (see
 * `dummyHashFor`); the salt and checksum are arbitrary, no password matches it.
 */
const DUMMY_HASH = '$2b$10$H.0.P.thLVozgVEitATeEuczm8CIx52.qB/RwejgRKv3mebst5CSy';

const BCRYPT_PREFIX = /^\$2[aby]\$(\d\d)\$/;

/** `scheme SP credentials` (RFC 9110 §11.4); the credentials are one token68-like word. */
const AUTHORIZATION = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +(\S+)\s*$/;

/** Standard base64 (RFC 7617), padding optional. Buffer's decoder alone would skip junk. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export class AdminAuth {
  readonly #realm: string;
  readonly #users: ReadonlyMap<string, string>;
  /** SHA-256 of the configured token; undefined: bearer auth is off. */
  readonly #tokenDigest: Buffer | undefined;
  readonly #dummyHash: string;
  /** SHA-256 (hex) of whole `Authorization` values that passed Basic auth — never a password. */
  readonly #verified = new Map<string, true>();
  #bcryptCompares = 0;

  constructor(config: AdminAuthConfig) {
    this.#realm = config.realm;
    // A Map, not the record: a user named `__proto__` or `constructor` must not resolve
    // to an inherited property.
    this.#users = new Map(Object.entries(config.users ?? {}));
    this.#tokenDigest = config.token ? sha256(config.token) : undefined;
    this.#dummyHash = dummyHashFor(this.#users.values());
  }

  /**
   * Resolves true when `authorization` carries valid credentials: `Bearer <token>` (only
   * when a token is configured; constant-time comparison) or `Basic base64(user:password)`
   * (bcrypt, ~50–100 ms at cost 10 unless this exact header value succeeded before).
   * Scheme names are case-insensitive. Never rejects: anything malformed resolves false.
   */
  async check(authorization: string | undefined): Promise<boolean> {
    try {
      if (authorization === undefined) return false;
      const m = AUTHORIZATION.exec(authorization);
      if (m === null) return false;
      const scheme = m[1].toLowerCase();
      if (scheme === 'bearer') return this.#checkBearer(m[2]);
      if (scheme === 'basic') return await this.#checkBasic(authorization, m[2]);
      return false;
    } catch {
      return false;
    }
  }

  /**
   * How many bcrypt compares this instance has completed: one per Basic check that missed
   * the cache, known user or not (a compare that failed on a malformed hash, and so did no
   * work, is not counted). Read-only; lets tests check the cache and the unknown-user cost
   * deterministically instead of by timing.
   */
  get bcryptCompares(): number {
    return this.#bcryptCompares;
  }

  /**
   * Values for `WWW-Authenticate` on a 401, one per enabled scheme (Basic when users are
   * configured, Bearer when a token is). Empty when neither is.
   */
  challenges(): string[] {
    const realm = quote(this.#realm);
    const out: string[] = [];
    if (this.#users.size > 0) out.push(`Basic realm=${realm}`);
    if (this.#tokenDigest !== undefined) out.push(`Bearer realm=${realm}`);
    return out;
  }

  #checkBearer(token: string): boolean {
    if (this.#tokenDigest === undefined) return false;
    // Equal-length digests, so neither the token's length nor its prefix leaks through timing.
    return timingSafeEqual(sha256(token), this.#tokenDigest);
  }

  async #compare(password: string, hash: string): Promise<boolean> {
    const match = await bcrypt.compare(password, hash);
    this.#bcryptCompares++;
    return match;
  }

  async #checkBasic(header: string, encoded: string): Promise<boolean> {
    if (this.#users.size === 0) return false;
    const key = sha256(header).toString('hex');
    if (this.#verified.has(key)) {
      // Refresh: the scraper that keeps sending this header keeps its entry.
      this.#verified.delete(key);
      this.#verified.set(key, true);
      return true;
    }
    if (!BASE64.test(encoded) || encoded.length % 4 === 1) return false;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    // The user name cannot contain ':' (RFC 7617); the password may.
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = this.#users.get(user);
    if (hash === undefined) {
      // Same cost as a known user, so the response time does not reveal which users exist.
      await this.#compare(password, this.#dummyHash).catch(() => false);
      return false;
    }
    if (!(await this.#compare(password, hash))) return false;
    this.#verified.set(key, true);
    if (this.#verified.size > CACHE_LIMIT) {
      this.#verified.delete(this.#verified.keys().next().value!);
    }
    return true;
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The dummy hash at the highest cost among the configured hashes (10 when none parse). */
function dummyHashFor(hashes: Iterable<string>): string {
  let cost = 0;
  for (const h of hashes) {
    const m = BCRYPT_PREFIX.exec(h);
    if (m !== null) cost = Math.max(cost, Number(m[1]));
  }
  if (cost < 4 || cost > 31) return DUMMY_HASH;
  return `$2b$${String(cost).padStart(2, '0')}$${DUMMY_HASH.slice(7)}`;
}

/** RFC 9110 quoted-string; control characters are dropped (they cannot appear in a header). */
function quote(s: string): string {
  return `"${s.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '').replace(/["\\]/g, '\\$&')}"`;
}
