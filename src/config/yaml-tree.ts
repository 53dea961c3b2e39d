// YAML text → plain data + SourceIndex, with `${VAR}` substituted in scalar strings.
// Uses the `yaml` package's AST (not toJS) so every value keeps its position.
//
// Contract:
// - Syntax errors (and duplicate keys) are returned as ConfigErrors with line:column;
//   when there are any, `data` is undefined.
// - An empty document is `{}`.
// - Substitution applies to string scalars that are values, and to the keys of the
//   free-form maps `weights`, `headers` and `query` (whose keys are data).
// - Pointers of substituted scalars are in `substituted` (for schema-directed coercion);
//   pointers of scalars whose substitution failed are in `tainted` (errors under them
//   are dropped: the env error already explains them).
// - Aliases are followed; YAML merge keys (`<<`) are not interpreted (unknown key).
import {
  LineCounter,
  parseDocument,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Document,
  type Node,
} from 'yaml';
import type { ConfigError } from './types.js';
import { childPath, SourceIndex, toPointer, type NodeInfo, type Pos } from './source-index.js';
import { substituteEnv, type Env } from './substitute-env.js';

export interface YamlTree {
  readonly data: unknown;
  readonly index: SourceIndex;
  readonly errors: readonly ConfigError[];
  readonly substituted: ReadonlySet<string>;
  readonly tainted: readonly string[];
}

const DATA_MAPS = new Set(['weights', 'headers', 'query']);
const MAX_DEPTH = 64;

export function readYaml(text: string, file: string, env: Env): YamlTree {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, keepSourceTokens: true });
  const at = (offset: number): Pos => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const nodes = new Map<string, NodeInfo>();
  const errors: ConfigError[] = [];
  const substituted = new Set<string>();
  const tainted: string[] = [];

  if (doc.errors.length > 0) {
    // After the first syntax error the parser's recovery produces a cascade of noise,
    // so report that one (plus every duplicate key, which are independent).
    const firstSyntax = doc.errors.find((e) => e.code !== 'DUPLICATE_KEY');
    for (const e of doc.errors) {
      if (e.code !== 'DUPLICATE_KEY' && e !== firstSyntax) continue;
      const p = at(e.pos[0]);
      const lineText = text.split('\n')[p.line - 1] ?? '';
      const duplicate = e.code === 'DUPLICATE_KEY';
      const hint = duplicate
        ? 'remove one of them'
        : lineText.includes('${') && /[{[]/.test(lineText.replace(/\$\{[^}]*\}/g, ''))
          ? 'quote values that contain ${...} inside { } or [ ], e.g. "${PORT}"'
          : undefined;
      errors.push({
        file,
        line: p.line,
        column: p.column,
        path: '',
        code: duplicate ? 'duplicate_key' : 'yaml_syntax',
        message: duplicate ? 'this key appears twice in the same mapping' : e.message,
        ...(hint !== undefined ? { hint } : {}),
      });
    }
    return { data: undefined, index: new SourceIndex(nodes), errors, substituted, tainted };
  }

  /** Substitutes `raw`; `where(value)` gives the pointer and path of the result. */
  const scalarString = (raw: string, where: (value: string) => [string, string], pos: Pos): string => {
    const r = substituteEnv(raw, env);
    const [pointer, path] = where(r.value);
    if (r.substituted) substituted.add(pointer);
    if (r.problems.length > 0) tainted.push(pointer);
    for (const p of r.problems) {
      errors.push({ file, line: pos.line, column: pos.column, path, code: p.code, message: p.message, hint: p.hint });
    }
    return r.value;
  };

  const walk = (node: Node | null, segments: string[], path: string, keyPos: Pos | undefined, depth: number, fallback: Pos): unknown => {
    const pos = node?.range ? at(node.range[0]) : fallback;
    const pointer = toPointer(segments);
    nodes.set(pointer, { path, key: keyPos, value: pos });
    if (depth > MAX_DEPTH) {
      errors.push({ file, line: pos.line, column: pos.column, path, code: 'yaml_syntax', message: 'document nested too deeply (recursive alias?)' });
      return null;
    }
    if (node === null) return null;
    if (isAlias(node)) return walk(node.resolve(doc as Document) ?? null, segments, path, keyPos, depth + 1, pos);
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'string') return scalarString(v, () => [pointer, path], pos);
      if (typeof v === 'bigint') return Number(v);
      return v;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) =>
        walk(item as Node | null, [...segments, String(i)], childPath(path, String(i), true), undefined, depth + 1, pos),
      );
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const isDataMap = DATA_MAPS.has(segments[segments.length - 1] ?? '') && segments.length > 1;
      for (const pair of node.items) {
        const k = pair.key as Node | null;
        const kPos = k?.range ? at(k.range[0]) : pos;
        if (k === null || !isScalar(k) || k.value === null || typeof k.value === 'object') {
          errors.push({ file, line: kPos.line, column: kPos.column, path, code: 'invalid_key', message: 'keys must be plain strings' });
          continue;
        }
        let key = String(k.value);
        if (isDataMap) key = scalarString(key, (v) => [toPointer([...segments, v]), childPath(path, v, false)], kPos);
        out[key] = walk(pair.value as Node | null, [...segments, key], childPath(path, key, false), kPos, depth + 1, kPos);
      }
      return out;
    }
    return null;
  };

  const root = doc.contents as Node | null;
  const data = root === null ? {} : walk(root, [], '', undefined, 0, { line: 1, column: 1 });
  if (root === null) nodes.set('', { path: '', value: { line: 1, column: 1 } });
  return { data, index: new SourceIndex(nodes), errors, substituted, tainted };
}
