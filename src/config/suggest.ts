// "Did you mean …?" for unknown keys, enum values and names. Pure.

/** Well-known spellings from other gateways (and Loom's Go original) → our key. */
const ALIASES: Readonly<Record<string, string>> = {
  query_params: 'query',
  query_param: 'query',
  load_balancing: 'load_balancer',
  lb: 'load_balancer',
  lb_policy: 'load_balancer',
  strip_path: 'strip_prefix',
  max_per_host: 'max_open',
  max_connections: 'max_open',
  method: 'methods',
  hosts: 'host',
  endpoint: 'endpoints',
  targets: 'endpoints',
  upstream_name: 'upstream',
  listen: 'address',
};

/** Optimal-string-alignment distance (Levenshtein plus adjacent transposition). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

const normalize = (s: string): string => s.toLowerCase().replace(/-/g, '_');

/**
 * The candidate closest to `word`, or undefined when none is close: distance ≤ 2 (≤ 1
 * for words of 4 characters or fewer) after lower-casing and `-` → `_`, or a known alias.
 * Ties go to the earlier candidate.
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const alias = ALIASES[normalize(word)];
  if (alias !== undefined && candidates.includes(alias)) return alias;
  const w = normalize(word);
  const limit = w.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const distance = editDistance(w, normalize(c));
    if (distance < bestDistance && distance <= limit && distance < c.length) {
      best = c;
      bestDistance = distance;
    }
  }
  return best;
}
