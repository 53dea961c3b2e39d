// X-Request-ID: kept from the client when it looks like an id, generated otherwise.
import { randomUUID } from 'node:crypto';

const MAX_LENGTH = 200;

/** A client-supplied id is kept when it is 1–200 visible ASCII characters (no spaces). */
export function isValidRequestId(value: string): boolean {
  if (value.length === 0 || value.length > MAX_LENGTH) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

export function requestIdFor(header: string | string[] | undefined): string {
  if (typeof header === 'string' && isValidRequestId(header)) return header;
  return randomUUID();
}
