#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Node 20's `--test` takes no globs, so the list is built here. Extra arguments are
// passed through (e.g. `npm test -- --test-name-pattern=router`); a path filter can be
// given with LOOM_TEST_FILTER=substring.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const testRoot = join(root, 'dist', 'test');
const filter = process.env.LOOM_TEST_FILTER ?? '';
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && relative(root, p).includes(filter)) files.push(p);
  }
})(testRoot);
files.sort();
if (files.length === 0) {
  console.error(`no test files under ${testRoot}${filter ? ` matching "${filter}"` : ''}`);
  process.exit(1);
}
// A test that hangs fails after 120 s instead of holding CI until its own limit.
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=120000', ...process.argv.slice(2), ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
