import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCliArgs } from '../../src/cli-args.js';

test('FAQ form: loom -config config.yaml -log-level debug', () => {
  assert.deepEqual(parseCliArgs(['-config', 'config.yaml', '-log-level', 'debug']), {
    kind: 'run',
    config: 'config.yaml',
    logLevel: 'debug',
    logFormat: 'json',
  });
});

test('--config, --config=, -log-format pretty', () => {
  assert.equal((parseCliArgs(['--config', 'a.yaml']) as { config: string }).config, 'a.yaml');
  assert.equal((parseCliArgs(['--config=b.yaml']) as { config: string }).config, 'b.yaml');
  assert.equal((parseCliArgs(['-config', 'a', '-log-format', 'pretty']) as { logFormat: string }).logFormat, 'pretty');
});

test('validate, version, help', () => {
  assert.deepEqual(parseCliArgs(['validate', 'x.yaml']), { kind: 'validate', config: 'x.yaml' });
  assert.deepEqual(parseCliArgs(['version']), { kind: 'version' });
  assert.deepEqual(parseCliArgs(['--version']), { kind: 'version' });
  assert.deepEqual(parseCliArgs(['--help']), { kind: 'help' });
  assert.deepEqual(parseCliArgs(['-h']), { kind: 'help' });
});

test('usage errors', () => {
  for (const argv of [[], ['-config'], ['-x', '1'], ['validate'], ['frobnicate'], ['-config', 'a', '-log-level', 'trace'], ['-config', 'a', '-log-format', 'xml']]) {
    assert.equal(parseCliArgs(argv).kind, 'usage_error', argv.join(' '));
  }
});
