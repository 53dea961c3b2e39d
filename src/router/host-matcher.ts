// Host constraints: `example.com` (exact) or `*.example.com` (any subdomain, at any
// depth: `a.example.com`, `a.b.example.com`; never `example.com` itself).
//
// Comparison is ASCII case-insensitive, on the host name without its port and without
// one trailing dot (`Example.COM.:8080` is `example.com`). IPv6 literals keep their
// brackets: the request host `[::1]:80` is `[::1]`; a config host written `::1` is
// stored as `[::1]`. A request without a Host (undefined or '') only matches routes
// without a host constraint.
//
// Cost: requestHostEnd and matchHost are HOT PATH: they index into the Host header
// string and allocate nothing (no toLowerCase, no slice).

export interface HostPattern {
  readonly kind: 'exact' | 'suffix';
  /** exact: the lower-case host; suffix: the lower-case suffix with its dot (`.example.com`). */
  readonly value: string;
  /** As written in the config. */
  readonly source: string;
}

/** Returns a message describing why `host` is not a valid host constraint, or null. */
export function validateHostPattern(host: string): string | null {
  try {
    parseHostPattern(host);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Parses a config host; throws Error with a human message when it is invalid. */
export function parseHostPattern(source: string): HostPattern {
  let h = source.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === '' || h === '*') {
    throw new Error(`host "${source}" is empty or "*"; leave host out to match every host`);
  }
  if (h.startsWith('[') || (h.indexOf(':') !== h.lastIndexOf(':'))) {
    // IPv6 literal, with or without brackets; no port allowed.
    const inner = h.startsWith('[') ? (h.endsWith(']') ? h.slice(1, -1) : '') : h;
    if (inner === '' || !/^[0-9a-f:.]+$/.test(inner)) {
      throw new Error(`host "${source}" is not a valid IPv6 literal (write it as [::1], without a port)`);
    }
    return Object.freeze({ kind: 'exact', value: `[${inner}]`, source });
  }
  if (h.includes(':')) throw new Error(`host "${source}" must not include a port`);
  if (/[\s/?#@\\]/.test(h)) throw new Error(`host "${source}" contains a character not allowed in a host`);
  if (h.startsWith('*.')) {
    const rest = h.slice(2);
    if (rest === '' || rest.includes('*')) throw new Error(`host "${source}": "*." must be followed by a domain`);
    return Object.freeze({ kind: 'suffix', value: h.slice(1), source });
  }
  if (h.includes('*')) throw new Error(`host "${source}": "*" is only allowed as a leading "*." label`);
  return Object.freeze({ kind: 'exact', value: h, source });
}

/**
 * HOT PATH. The length of the host-name part of a Host header value: the port and one
 * trailing dot are cut off. -1 when there is no host.
 */
export function requestHostEnd(host: string | undefined): number {
  if (host === undefined || host.length === 0) return -1;
  let end: number;
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    end = close === -1 ? host.length : close + 1;
  } else {
    const colon = host.indexOf(':');
    end = colon === -1 ? host.length : colon;
    if (end > 0 && host.charCodeAt(end - 1) === 0x2e /* . */) end--;
  }
  return end;
}

/** HOT PATH. Does `host[0, end)` satisfy the pattern? `end` comes from requestHostEnd. */
export function matchHost(p: HostPattern, host: string, end: number): boolean {
  const v = p.value;
  const vl = v.length;
  if (p.kind === 'exact') {
    return end === vl && equalsLowerAt(host, 0, v);
  }
  // suffix: at least one character before the dot.
  return end > vl && equalsLowerAt(host, end - vl, v);
}

/** ASCII case-insensitive compare of host[start, start + lower.length) with `lower`. */
function equalsLowerAt(host: string, start: number, lower: string): boolean {
  const n = lower.length;
  for (let i = 0; i < n; i++) {
    let c = host.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
