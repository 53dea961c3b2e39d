// Where each value of the parsed document came from: JSON pointer → display path and
// 1-based line:column of the key and of the value. Ajv errors carry JSON pointers, so
// this is the bridge from a schema error back to the YAML text.

export interface Pos {
  readonly line: number;
  readonly column: number;
}

export interface NodeInfo {
  /** Display path such as `upstreams[0].weights["api-1:8080"]`. */
  readonly path: string;
  /** Position of the key (absent for array items and the root). */
  readonly key?: Pos;
  readonly value: Pos;
}

export type Segments = readonly string[];

export const toPointer = (segments: Segments): string =>
  segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');

export const fromPointer = (pointer: string): string[] =>
  pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `parent` + `[3]` for an index, `.key` for a plain key, `["odd key"]` otherwise. */
export function childPath(parent: string, segment: string, isIndex: boolean): string {
  if (isIndex) return `${parent}[${segment}]`;
  if (IDENT.test(segment)) return parent === '' ? segment : `${parent}.${segment}`;
  return `${parent}[${JSON.stringify(segment)}]`;
}

export class SourceIndex {
  constructor(private readonly nodes: ReadonlyMap<string, NodeInfo>) {}

  /** Display path of `segments`, also for keys that are absent (missing required keys). */
  path(segments: Segments): string {
    const known = this.nodes.get(toPointer(segments));
    if (known !== undefined) return known.path;
    if (segments.length === 0) return '';
    const parent = segments.slice(0, -1);
    const last = segments[segments.length - 1];
    return childPath(this.path(parent), last, false);
  }

  /**
   * Position of the key (`where: 'key'`, falling back to the value) or of the value.
   * An absent node reports its nearest present ancestor's value; 0:0 if none.
   */
  pos(segments: Segments, where: 'key' | 'value'): Pos {
    for (let n = segments.length; n >= 0; n--) {
      const info = this.nodes.get(toPointer(segments.slice(0, n)));
      if (info === undefined) continue;
      if (n === segments.length && where === 'key' && info.key !== undefined) return info.key;
      return info.value;
    }
    return { line: 0, column: 0 };
  }
}
