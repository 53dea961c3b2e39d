// Golden tests of the config layer:
//   test/golden/config/*.yaml        → *.config.json  (the adapted, defaulted config)
//   test/golden/config/*.yaml        → *.routes.json  (the compiled route table, in match order)
//   test/golden/config-errors/*.yaml → *.errors.txt   (formatConfigErrors output)
// Compared exactly; UPDATE_GOLDEN=1 rewrites the expected files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fromRoot, updateGolden } from '../helpers/paths.js';
import { loadConfigText } from '../../src/config/load.js';
import { formatConfigErrors } from '../../src/config/format-errors.js';
import { compile } from '../../src/compile/compile.js';
import { describeRouter } from '../../src/router/describe-router.js';

/** The environment every golden file is loaded with. */
export const GOLDEN_ENV: Readonly<Record<string, string>> = {
  PORT: '8080',
  BACKEND_HOST: 'api.internal',
  BACKEND_PORT: '9000',
  TLS_CERT_PATH: '/etc/loom/cert.pem',
  R: '12',
  W: '2',
};

function compare(expectedFile: string, actual: string): void {
  if (updateGolden) {
    writeFileSync(expectedFile, actual);
    return;
  }
  assert.ok(existsSync(expectedFile), `${expectedFile} is missing; run with UPDATE_GOLDEN=1`);
  assert.equal(actual, readFileSync(expectedFile, 'utf8'));
}

const yamlFiles = (dir: string): string[] => readdirSync(fromRoot(dir)).filter((f) => f.endsWith('.yaml')).sort();

for (const name of yamlFiles('test/golden/config')) {
  test(`config golden: ${name}`, () => {
    const r = loadConfigText(readFileSync(fromRoot('test/golden/config', name), 'utf8'), name, GOLDEN_ENV);
    assert.ok(r.ok, r.ok ? '' : formatConfigErrors(r.errors));
    compare(fromRoot('test/golden/config', name.replace(/\.yaml$/, '.config.json')), JSON.stringify(r.config, null, 2) + '\n');
  });
  test(`compiled routes golden: ${name}`, () => {
    const r = loadConfigText(readFileSync(fromRoot('test/golden/config', name), 'utf8'), name, GOLDEN_ENV);
    assert.ok(r.ok);
    const compiled = compile(r.config);
    const table = { routes: describeRouter(compiled.router), upstreams: compiled.routes.map((route) => [route.id, compiled.upstreams[route.upstreamIndex].name]) };
    compare(fromRoot('test/golden/config', name.replace(/\.yaml$/, '.routes.json')), JSON.stringify(table, null, 2) + '\n');
  });
}

for (const name of yamlFiles('test/golden/config-errors')) {
  test(`config-errors golden: ${name}`, () => {
    const r = loadConfigText(readFileSync(fromRoot('test/golden/config-errors', name), 'utf8'), name, GOLDEN_ENV);
    assert.ok(!r.ok, `${name} should be rejected`);
    compare(fromRoot('test/golden/config-errors', name.replace(/\.yaml$/, '.errors.txt')), formatConfigErrors(r.errors) + '\n');
  });
}
