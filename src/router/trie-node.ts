// One node of the router's segment trie. Built once by compileRouter (cold path), then
// read-only. A node stands for "the path so far matched these pattern segments".
//
//   statics  children by literal segment; looked up by hash without slicing the path
//            (see findStatic), so a lookup allocates nothing.
//   param    the single `{name}` child (names live on the routes: `/u/{id}` and
//            `/u/{uid}/x` share it).
//   end      routes whose pattern ends here (exact patterns), best rank first.
//   wild     routes whose pattern is this node + `/*`, best rank first.
//   minRank  best (lowest) rank of any route in this subtree, for pruning.

export class TrieNode<C extends { readonly rank: number }> {
  /** The literal segment leading to this node ('' for the root and param nodes). */
  readonly segment: string;
  statics: TrieNode<C>[] = [];
  /**
   * Built by finish() when there are many static children: buckets indexed by
   * `segmentHash & staticMask` (a power-of-two table, no Map on the hot path).
   */
  staticTable: readonly (readonly TrieNode<C>[])[] | null = null;
  staticMask = 0;
  param: TrieNode<C> | null = null;
  end: C[] = [];
  wild: C[] = [];
  minRank = Number.POSITIVE_INFINITY;

  constructor(segment: string) {
    this.segment = segment;
  }

  /** Cold path: the static child for `segment`, created when missing. */
  staticChild(segment: string): TrieNode<C> {
    for (const c of this.statics) if (c.segment === segment) return c;
    const c = new TrieNode<C>(segment);
    this.statics.push(c);
    return c;
  }

  /** Cold path: the param child, created when missing. */
  paramChild(): TrieNode<C> {
    if (this.param === null) this.param = new TrieNode<C>('');
    return this.param;
  }

  /** Cold path, after every route is inserted: sort candidates, index, compute minRank. */
  finish(): number {
    const byRank = (a: C, b: C): number => a.rank - b.rank;
    this.end.sort(byRank);
    this.wild.sort(byRank);
    this.statics.sort((a, b) => (a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : 0));
    let min = Number.POSITIVE_INFINITY;
    if (this.end.length > 0) min = Math.min(min, this.end[0].rank);
    if (this.wild.length > 0) min = Math.min(min, this.wild[0].rank);
    for (const c of this.statics) min = Math.min(min, c.finish());
    if (this.param !== null) min = Math.min(min, this.param.finish());
    if (this.statics.length > STATIC_LINEAR_MAX) {
      let size = 8;
      while (size < 2 * this.statics.length) size *= 2;
      const table: TrieNode<C>[][] = Array.from({ length: size }, () => []);
      for (const c of this.statics) table[segmentHash(c.segment, 0, c.segment.length) & (size - 1)].push(c);
      this.staticTable = table;
      this.staticMask = size - 1;
    }
    this.minRank = min;
    return min;
  }

  /**
   * HOT PATH. The static child whose segment equals path[start, start + len), or null.
   * `hash` is segmentHash of that range (the walk computes it while looking for the
   * next `/`). No substring is created: a node with few children is scanned, a larger
   * one narrows by hash first; either way the winner is confirmed in place (equalsAt).
   */
  findStatic(path: string, start: number, len: number, hash: number): TrieNode<C> | null {
    const table = this.staticTable;
    const list = table === null ? this.statics : table[hash & this.staticMask];
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (c.segment.length === len && equalsAt(path, start, c.segment)) return c;
    }
    return null;
  }
}

/** HOT PATH. path[start, start + seg.length) === seg, compared in place (no substring). */
function equalsAt(path: string, start: number, seg: string): boolean {
  // Compare from the end: sibling segments often share a prefix (`resource1`, `resource2`).
  for (let i = seg.length - 1; i >= 0; i--) {
    if (path.charCodeAt(start + i) !== seg.charCodeAt(i)) return false;
  }
  return true;
}

/** Above this many static children a node gets a bucket index instead of a linear scan. */
const STATIC_LINEAR_MAX = 6;

/**
 * Hash of s[start, end): 31-polynomial over char codes, folded to 30 bits so it is always
 * a small integer (Map lookups on it allocate nothing). Collisions are harmless: the
 * candidates are compared in place. The walk in router.ts inlines this loop;
 * keep the two identical.
 */
export function segmentHash(s: string, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h & 0x3fffffff;
}
