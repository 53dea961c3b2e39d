// docs/configuration.md, schema/loom.schema.json and the code stay in step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fromRoot, updateGolden } from '../helpers/paths.js';
import { renderDefault, schemaPaths } from '../helpers/schema-paths.js';
import { LOOM_SCHEMA, type JsonSchema } from '../../src/config/schema.js';
import { NOT_SUPPORTED } from '../../src/config/not-supported.js';

const docs = readFileSync(fromRoot('docs/configuration.md'), 'utf8');
const KEY_PATH = /^`([a-z_]+(?:\[\])?(?:\.[a-z_]+(?:\[\])?)*)`$/;

/** Rows of the reference tables: | `path` | type | default | description |. */
function docRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of docs.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    const m = KEY_PATH.exec(cells[0] ?? '');
    if (m === null || cells.length < 4) continue;
    assert.ok(!rows.has(m[1]), `docs list ${m[1]} twice`);
    rows.set(m[1], cells[2]);
  }
  return rows;
}

test('schema/loom.schema.json is the published copy of LOOM_SCHEMA (UPDATE_GOLDEN=1 rewrites it)', () => {
  const file = fromRoot('schema/loom.schema.json');
  const expected = JSON.stringify(LOOM_SCHEMA, null, 2) + '\n';
  if (updateGolden) writeFileSync(file, expected);
  assert.equal(readFileSync(file, 'utf8'), expected);
});

test('every schema property is documented, with its default', () => {
  const rows = docRows();
  for (const { path, schema } of schemaPaths(LOOM_SCHEMA)) {
    assert.ok(rows.has(path), `docs/configuration.md lacks a row for \`${path}\``);
    const documented = rows.get(path)!.replace(/`/g, '');
    const expected = schema.default === undefined ? '—' : renderDefault(schema.default);
    assert.equal(documented, expected, `default of ${path}`);
  }
});

test('every documented key exists in the schema', () => {
  const known = new Set(schemaPaths(LOOM_SCHEMA).map((p) => p.path));
  for (const path of docRows().keys()) assert.ok(known.has(path), `docs document \`${path}\`, which the schema lacks`);
});

test('every schema property has a description; objects are closed', () => {
  const visit = (s: JsonSchema, path: string): void => {
    assert.equal(typeof s.description, 'string', `${path} has no description`);
    if (s.type === 'object' && s.properties !== undefined) {
      assert.equal(s.additionalProperties, false, `${path} must be closed`);
      for (const [k, child] of Object.entries(s.properties as Record<string, JsonSchema>)) visit(child, path ? `${path}.${k}` : k);
    }
    if (s.type === 'array' && (s.items as JsonSchema).type === 'object') visit(s.items as JsonSchema, `${path}[]`);
  };
  visit(LOOM_SCHEMA, '');
});

test('every not-supported key is in the schema and in the docs list', () => {
  const known = new Set(schemaPaths(LOOM_SCHEMA).map((p) => p.path));
  const section = docs.slice(docs.indexOf('## Not supported yet'));
  for (const entry of NOT_SUPPORTED) {
    assert.ok(known.has(entry.path), `${entry.path} is not in the schema`);
    assert.ok(section.includes(`| \`${entry.path}\``), `${entry.path} is not in the docs' "Not supported yet" list`);
  }
});
