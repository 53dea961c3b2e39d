// Golden test for the router: each test/golden/routes/<name>.json (an array of
// RouteConfig objects with defaults filled) is compiled; the router description plus the
// outcome of a list of probe requests is compared to <name>.golden.json.
// Probes: generated from the routes (one matching request per route, its bare prefix
// for wildcard routes, a 405 probe for routes with methods), plus the hand-written ones
// in <name>.probes.json when it exists. UPDATE_GOLDEN=1 rewrites the golden files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../../src/config/types.js';
import { compileRouter, upstreamPath, type Router } from '../../src/router/router.js';
import { describeRouter } from '../../src/router/describe-router.js';
import { normalizePath } from '../../src/router/normalize-path.js';
import { fromRoot, updateGolden } from '../helpers/paths.js';

interface Probe {
  readonly method: string;
  readonly host?: string;
  /** Raw request path, before normalisation. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly query?: string;
}

const dir = fromRoot('test', 'golden', 'routes');
const inputs = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json') && !f.endsWith('.probes.json'))
  .sort();

function generatedProbes(routes: readonly RouteConfig[]): Probe[] {
  const probes: Probe[] = [];
  for (const r of routes) {
    const wild = r.path.endsWith('/*');
    const base = (wild ? r.path.slice(0, -2) : r.path).replace(/\{([^}]+)\}/g, (_, n: string) => `${n}-1`);
    const host = r.host === undefined ? undefined : r.host.replace(/^\*\./, 'sub.');
    const query = r.query === undefined ? undefined : new URLSearchParams(r.query as Record<string, string>).toString();
    const common = { host, headers: r.headers, query };
    const method = r.methods?.[0] ?? 'GET';
    probes.push({ method, path: wild ? `${base}/rest/x` : base, ...common });
    if (wild) probes.push({ method, path: base === '' ? '/' : base, ...common });
    if (r.methods !== undefined) {
      const other = ['DELETE', 'OPTIONS', 'TRACE'].find((m) => !r.methods!.includes(m))!;
      probes.push({ method: other, path: wild ? `${base}/rest/x` : base, ...common });
    }
  }
  probes.push({ method: 'GET', path: '/__no_such_path__' });
  return probes;
}

function outcome(router: Router, p: Probe): unknown {
  const path = normalizePath(p.path);
  if (path === null) return { status: 400 };
  const headers: IncomingHttpHeaders = { ...(p.headers ?? {}) };
  const res = router.match(p.method, p.host, path, headers, p.query ?? '');
  if (res === null) return { status: 404, path };
  if (res.kind === 'method_not_allowed') return { status: 405, allow: res.allow };
  return { route: res.route.id, path, params: res.params, upstream_path: upstreamPath(res, path) };
}

function clean(p: Probe): Probe {
  // Drop undefined keys so the golden file is stable.
  return JSON.parse(JSON.stringify(p)) as Probe;
}

for (const file of inputs) {
  test(`golden routes: ${file}`, () => {
    const name = file.slice(0, -'.json'.length);
    const routes = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as RouteConfig[];
    const extra = existsSync(`${dir}/${name}.probes.json`)
      ? (JSON.parse(readFileSync(`${dir}/${name}.probes.json`, 'utf8')) as Probe[])
      : [];
    const router = compileRouter(routes);
    const seen = new Set<string>();
    const probes = [...generatedProbes(routes), ...extra].map(clean).filter((p) => {
      const k = JSON.stringify(p);
      return seen.has(k) ? false : (seen.add(k), true);
    });
    const actual = {
      router: describeRouter(router),
      probes: probes.map((p) => ({ request: p, outcome: outcome(router, p) })),
    };
    const text = JSON.stringify(actual, null, 2) + '\n';
    const goldenFile = `${dir}/${name}.golden.json`;
    if (updateGolden || !existsSync(goldenFile)) {
      if (!updateGolden) assert.fail(`${goldenFile} is missing; run with UPDATE_GOLDEN=1 to create it`);
      writeFileSync(goldenFile, text);
      return;
    }
    assert.deepEqual(JSON.parse(text), JSON.parse(readFileSync(goldenFile, 'utf8')));
  });
}
