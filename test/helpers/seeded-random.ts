// A tiny seeded PRNG (mulberry32) for deterministic tests: same seed, same sequence.
// Returns a RandomSource (uniform in [0, 1)). Not for production use.
import type { RandomSource } from '../../src/upstream/selection/selector.js';

export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
