// A 32-bit string hash for hash-based selection: MurmurHash3 (x86, 32-bit) mixing
// applied to UTF-16 code units, two per 32-bit block, with murmur3's fmix32
// finaliser. Not byte-compatible with murmur3 over UTF-8 (nothing outside this
// process needs to agree with it); chosen because it hashes a substring in place
// (no slice, no encoding) and its output is well spread even for keys that differ
// in one character (user-1, user-2, …), which plain FNV-1a is not without a finaliser.
// Cost: one pass over the characters, no allocation. Hot path.

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Hash of `s.slice(start, end)` without making the slice. Unsigned 32-bit result. */
export function hash32(s: string, start = 0, end = s.length, seed = 0): number {
  let h = seed | 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    let k = (s.charCodeAt(i) & 0xffff) | (s.charCodeAt(i + 1) << 16);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < end) {
    let k = s.charCodeAt(i) & 0xffff;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= (end - start) << 1; // length in bytes of the UTF-16 input, as murmur3 mixes it
  return fmix32(h);
}

/** murmur3's finaliser: full avalanche of a 32-bit value. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
