// The config pipeline: YAML text → substitute ${VAR} → coerce → schema → not-supported
// → semantic checks → adapt (defaults) → deep freeze. Every error is collected and
// returned at once, sorted by line; a config is returned only when there are none.
// Data only: reads one file in loadConfigFile, nothing else.
import { readFile } from 'node:fs/promises';
import { adapt } from './adapt.js';
import { coerceSubstituted } from './coerce.js';
import { deepFreeze } from './freeze.js';
import { findNotSupported } from './not-supported.js';
import { LOOM_SCHEMA } from './schema.js';
import { checkSchema, type Problem } from './schema-check.js';
import { toPointer } from './source-index.js';
import type { Env } from './substitute-env.js';
import type { ConfigError, GatewayConfig } from './types.js';
import { checkSemantics } from './validate.js';
import { readYaml } from './yaml-tree.js';

export type LoadResult =
  | { readonly ok: true; readonly config: GatewayConfig }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

/** Loads config from YAML `text`; `file` is only used in error positions. */
export function loadConfigText(text: string, file: string, env: Env): LoadResult {
  const tree = readYaml(text, file, env);
  if (tree.data === undefined) return fail(tree.errors);
  coerceSubstituted(tree.data, LOOM_SCHEMA, tree.substituted);

  const problems: Problem[] = [];
  // Errors under a key that is not supported, or under a value whose substitution
  // failed, would only repeat the one reported there.
  const muted = [...tree.tainted];
  for (const hit of findNotSupported(tree.data)) {
    const path = tree.index.path(hit.segments);
    const pos = tree.index.pos(hit.segments, hit.value === undefined ? 'key' : 'value');
    const what = hit.value === undefined ? path : `${path}: ${hit.value}`;
    problems.push({ segments: hit.segments, ...pos, path, code: 'not_supported', message: `"${what}" is not supported yet`, hint: hit.entry.hint });
    if (hit.value === undefined) muted.push(toPointer(hit.segments));
  }
  problems.push(...checkSchema(tree.data, tree.index), ...checkSemantics(tree.data, tree.index));

  const isMuted = (p: Problem): boolean => {
    const pointer = toPointer(p.segments);
    return muted.some((m) => pointer === m || pointer.startsWith(m + '/'));
  };
  const seen = new Set<string>();
  const errors: ConfigError[] = [...tree.errors];
  for (const p of problems) {
    if (p.code !== 'not_supported' && isMuted(p)) continue;
    // One error per node: a wrong type makes further checks of that value noise.
    const key = `${toPointer(p.segments)}|${p.code === 'unknown_key' ? 'key' : 'value'}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const { segments: _segments, ...rest } = p;
    errors.push({ file, ...rest });
  }
  if (errors.length > 0) return fail(errors);
  return { ok: true, config: deepFreeze(adapt(tree.data as Record<string, unknown>)) };
}

/** Reads and loads `path`. A missing or unreadable file is reported as a ConfigError. */
export async function loadConfigFile(path: string, env: Env = process.env): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = e.code === 'ENOENT';
    return fail([
      {
        file: path,
        line: 0,
        column: 0,
        path: '',
        code: missing ? 'file_not_found' : 'file_unreadable',
        message: missing ? 'config file not found' : `cannot read config file: ${e.message}`,
        ...(missing ? { hint: 'check the path' } : {}),
      },
    ]);
  }
  return loadConfigText(text, path, env);
}

/** Sorted by line then column (stable: equal positions keep discovery order). */
function fail(errors: readonly ConfigError[]): LoadResult {
  const sorted = [...errors].sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, errors: deepFreeze(sorted) };
}
