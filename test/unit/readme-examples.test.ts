// Every complete config in the README (a yaml block with `listeners:`) is valid, and so
// is the quick-start config: the README must show only what works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfigText } from '../../src/config/load.js';
import { formatConfigErrors } from '../../src/config/format-errors.js';
import { fromRoot } from '../helpers/paths.js';

test('README yaml configs validate', () => {
  const readme = readFileSync(fromRoot('README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.includes('listeners:'));
  assert.ok(blocks.length >= 1);
  for (const block of blocks) {
    const r = loadConfigText(block, 'README.md', {});
    assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
  }
});

test('examples/loom.yaml validates with its defaults', () => {
  const r = loadConfigText(readFileSync(fromRoot('examples', 'loom.yaml'), 'utf8'), 'loom.yaml', {});
  assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
  assert.equal(r.config.listeners[0].port, 8080);
  assert.deepEqual(r.config.upstreams[0].endpoints, ['127.0.0.1:9001', '127.0.0.1:9002']);
});
