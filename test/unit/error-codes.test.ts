// Every error code is documented in docs/errors.md with its status, and nothing
// documented is missing from the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../../src/errors.js';
import { fromRoot } from '../helpers/paths.js';

test('docs/errors.md documents every LOOM_ERR_* code with its status', () => {
  const doc = readFileSync(fromRoot('docs', 'errors.md'), 'utf8');
  const rows = new Map<string, number>();
  for (const m of doc.matchAll(/^\| `(LOOM_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)) rows.set(m[1], Number(m[2]));
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    assert.equal(rows.get(code), spec.status, `${code} documented with status ${spec.status}`);
  }
  for (const code of rows.keys()) assert.ok(code in ERROR_CODES, `${code} in the docs exists in src/errors.ts`);
});
