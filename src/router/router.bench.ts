// Router micro-benchmark (a script, not a test): 1M lookups on a 100-route table.
//   npx tsc -p tsconfig.json && node dist/src/router/router.bench.js
// Reports ns per lookup (fastest of 10 rounds, and the median) for a mixed request set and for each kind of hit on its own,
// plus normalizePath's fast path. Numbers go to bench/RESULTS.md with date and machine.

import type { RouteConfig } from '../config/types.js';
import { compileRouter, type Router } from './router.js';
import { normalizePath } from './normalize-path.js';

const LOOKUPS = 1_000_000;
const ROUNDS = 10;

function buildRoutes(): RouteConfig[] {
  const routes: RouteConfig[] = [];
  const add = (id: string, path: string, extra: Partial<RouteConfig> = {}): void => {
    routes.push({ id, path, priority: 0, upstream: 'u', strip_prefix: false, retry_non_idempotent: false, ...extra });
  };
  for (let i = 0; i < 30; i++) add(`svc${i}`, `/svc${i}/*`);
  for (let i = 0; i < 25; i++) add(`exact${i}`, `/v1/resource${i}`, { methods: ['GET', 'POST'] });
  for (let i = 0; i < 25; i++) add(`item${i}`, `/v1/resource${i}/{id}`);
  for (let i = 0; i < 10; i++) add(`sub${i}`, `/v1/resource${i}/{id}/sub/{sub}`);
  for (let i = 0; i < 5; i++) add(`host${i}`, '/*', { host: `tenant${i}.example.com` });
  for (let i = 0; i < 4; i++) add(`hdr${i}`, `/svc${i}/*`, { headers: { 'x-canary': 'on' } });
  add('fallback', '/*');
  return routes; // 100 routes
}

interface Req {
  readonly method: string;
  readonly host: string;
  readonly path: string;
}

/**
 * Runs LOOKUPS lookups in ROUNDS rounds and reports the fastest round and the median
 * (shared machines are noisy; the fastest round is the least disturbed one).
 */
function measure(run: (n: number) => number): { best: number; median: number } {
  run(200_000); // warm-up
  const per = LOOKUPS / ROUNDS;
  const ns: number[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    const t0 = process.hrtime.bigint();
    run(per);
    ns.push(Number(process.hrtime.bigint() - t0) / per);
  }
  ns.sort((a, b) => a - b);
  return { best: ns[0], median: ns[Math.floor(ROUNDS / 2)] };
}

function report(label: string, r: { best: number; median: number }): void {
  console.log(
    `${label.padEnd(38)} best ${r.best.toFixed(1).padStart(6)} ns  median ${r.median.toFixed(1).padStart(6)} ns` +
      `  (${(1e3 / r.best).toFixed(2)} M/s)`,
  );
}

let sink = 0;

function time(label: string, router: Router, reqs: readonly Req[]): void {
  const headers = { host: 'api.example.com', 'user-agent': 'bench', accept: '*/*' };
  report(
    label,
    measure((n) => {
      for (let i = 0; i < n; i++) {
        const r = reqs[i % reqs.length];
        if (router.match(r.method, r.host, r.path, headers, '') !== null) sink++;
      }
      return sink;
    }),
  );
}

/**
 * Machine calibration: one Map.get of the whole path per lookup (what a pure static
 * table would cost). Shared CI boxes vary a lot; compare the router to this line.
 */
function baseline(paths: readonly string[]): void {
  const table = new Map(paths.map((p, i) => [p, i]));
  report(
    'baseline: Map.get(path)',
    measure((n) => {
      for (let i = 0; i < n; i++) sink += table.get(paths[i % paths.length]) ?? 0;
      return sink;
    }),
  );
}

function main(): void {
  const router = compileRouter(buildRoutes());
  const host = 'api.example.com';
  const prefix: Req[] = [];
  const exact: Req[] = [];
  const param: Req[] = [];
  const miss: Req[] = [];
  for (let i = 0; i < 30; i++) prefix.push({ method: 'GET', host, path: `/svc${i}/orders/${i}` });
  for (let i = 0; i < 25; i++) exact.push({ method: 'GET', host, path: `/v1/resource${i}` });
  for (let i = 0; i < 25; i++) param.push({ method: 'GET', host, path: `/v1/resource${i}/${1000 + i}` });
  for (let i = 0; i < 10; i++) param.push({ method: 'GET', host, path: `/v1/resource${i}/${i}/sub/x${i}` });
  for (let i = 0; i < 10; i++) miss.push({ method: 'GET', host, path: `/unknown/${i}/deep/path` });
  const mixed = [...prefix, ...exact, ...param, ...miss];

  console.log(`node ${process.version}, ${router.routes().length} routes, ${LOOKUPS} lookups per line`);
  baseline(mixed.map((r) => r.path));
  time('mixed (static, prefix, param, miss)', router, mixed);
  time('exact static (0 alloc)', router, exact);
  time('prefix /svcN/* (0 alloc)', router, prefix);
  time('param /v1/resourceN/{id}[/sub/{s}]', router, param);
  time('fallthrough to /* catch-all', router, miss);

  const paths = mixed.map((r) => r.path);
  report(
    'normalizePath fast path',
    measure((n) => {
      for (let i = 0; i < n; i++) if (normalizePath(paths[i % paths.length]) !== null) sink++;
      return sink;
    }),
  );
  if (sink === 0) console.log('(sink)');
}

main();
