// The shared Selector suite: every load-balancing policy (and every consistent-hash
// key source) must pass it. Policy-specific promises live in
// test/unit/selector-distribution.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { HashKeySource, LoadBalancerKind } from '../../src/config/types.js';
import { createEndpoint, type UpstreamEndpoint } from '../../src/upstream/endpoint.js';
import { createSelector, LOAD_BALANCER_KINDS } from '../../src/upstream/selection/create-selector.js';
import type { RandomSource, SelectionInput, Selector } from '../../src/upstream/selection/selector.js';
import { seededRandom } from '../helpers/seeded-random.js';

interface Case {
  readonly name: string;
  readonly kind: LoadBalancerKind;
  readonly hashKey: HashKeySource;
}

const CLIENT_IP: HashKeySource = { kind: 'client_ip' };
const cases: Case[] = LOAD_BALANCER_KINDS.flatMap((kind): Case[] =>
  kind === 'consistent_hash'
    ? [
        { name: 'consistent_hash (header)', kind, hashKey: { kind: 'header', name: 'X-User' } },
        { name: 'consistent_hash (cookie)', kind, hashKey: { kind: 'cookie', name: 'sid' } },
        { name: 'consistent_hash (query)', kind, hashKey: { kind: 'query', name: 'user' } },
        { name: 'consistent_hash (client_ip)', kind, hashKey: CLIENT_IP },
      ]
    : [{ name: kind, kind, hashKey: CLIENT_IP }],
);

function endpoints(n: number, weights?: readonly number[]): UpstreamEndpoint[] {
  return Array.from({ length: n }, (_, i) => createEndpoint(`10.0.0.${i + 1}:8080`, i, weights?.[i] ?? 1));
}

function build(c: Case, eps: readonly UpstreamEndpoint[], random: RandomSource = seededRandom(1)): Selector {
  return createSelector(c.kind, eps, { hashKey: c.hashKey, replicas: 160, random });
}

/** A request whose every possible key (IP, header, cookie, query) derives from `k`. */
function inputFor(k: number): SelectionInput {
  return {
    clientIp: `192.168.${(k >>> 8) & 255}.${k & 255}`,
    headers: { 'x-user': `user-${k}`, cookie: `theme=dark; sid=s${k}; lang=en` },
    rawQuery: `page=2&user=q${k}`,
  };
}

/** `k` → a request; a few requests carry no key so the client-IP fallback runs too. */
function variedInput(k: number): SelectionInput {
  if (k % 7 === 0) return { clientIp: `172.16.${(k >>> 8) & 255}.${k & 255}`, headers: {}, rawQuery: '' };
  return inputFor(k);
}

const FIXED = inputFor(1);

const availableCount = (eps: readonly UpstreamEndpoint[]): number => eps.filter((e) => e.available).length;

const arbState = fc.record({
  n: fc.integer({ min: 1, max: 6 }),
  weights: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 6, maxLength: 6 }),
  available: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
  inflight: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 6, maxLength: 6 }),
  latency: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0.1, max: 500, noNaN: true })), { minLength: 6, maxLength: 6 }),
  seed: fc.integer(),
  keys: fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
});

type State = typeof arbState extends fc.Arbitrary<infer T> ? T : never;

function materialise(s: State): UpstreamEndpoint[] {
  const eps = endpoints(s.n, s.weights);
  eps.forEach((e, i) => {
    e.available = s.available[i];
    e.inflight = s.inflight[i];
    e.latencyEwma = s.latency[i];
  });
  return eps;
}

for (const c of cases) {
  describe(`Selector conformance: ${c.name}`, () => {
    it('returns only available endpoints of its own list, and undefined only when none is available', () => {
      fc.assert(
        fc.property(arbState, (s) => {
          const eps = materialise(s);
          const selector = build(c, eps, seededRandom(s.seed));
          for (const k of s.keys) {
            const picked = selector.select(variedInput(k));
            if (availableCount(eps) === 0) assert.equal(picked, undefined);
            else {
              assert.ok(picked !== undefined, 'an endpoint is available');
              assert.ok(picked.available, `${picked.address} is unavailable`);
              assert.ok(eps.includes(picked));
            }
          }
        }),
        { numRuns: 200 },
      );
    });

    it('returns undefined when no endpoint is available (and for an empty list)', () => {
      const eps = endpoints(3);
      for (const e of eps) e.available = false;
      const selector = build(c, eps);
      for (let k = 0; k < 50; k++) {
        assert.equal(selector.select(variedInput(k)), undefined);
        assert.equal(selector.select(variedInput(k), eps[k % 3]), undefined);
      }
      const empty = build(c, []);
      assert.equal(empty.select(FIXED), undefined);
      assert.equal(empty.select(FIXED, eps[0]), undefined);
    });

    it('honours exclude when another endpoint is available, and falls back to it when none is', () => {
      fc.assert(
        fc.property(arbState, fc.nat(), (s, pick) => {
          const eps = materialise(s);
          const selector = build(c, eps, seededRandom(s.seed));
          const exclude = eps[pick % eps.length];
          for (const k of s.keys) {
            const picked = selector.select(variedInput(k), exclude);
            const others = eps.filter((e) => e.available && e !== exclude).length;
            if (others > 0) {
              assert.ok(picked !== undefined && picked !== exclude && picked.available);
            } else if (exclude.available) {
              assert.equal(picked, exclude, 'the excluded endpoint is the only one available');
            } else {
              assert.equal(picked, undefined);
            }
          }
        }),
        { numRuns: 200 },
      );
    });

    it('ignores an exclude that is not one of its endpoints', () => {
      const eps = endpoints(2);
      const foreign = createEndpoint('10.9.9.9:80', 0);
      const selector = build(c, eps);
      for (let k = 0; k < 20; k++) assert.ok(eps.includes(selector.select(variedInput(k), foreign)!));
      for (const e of eps) e.available = false;
      assert.equal(selector.select(FIXED, foreign), undefined, 'never returns a foreign endpoint');
    });

    it('works with one endpoint', () => {
      const [only] = endpoints(1);
      const selector = build(c, [only]);
      for (let k = 0; k < 20; k++) assert.equal(selector.select(variedInput(k)), only);
      assert.equal(selector.select(FIXED, only), only, 'exclude is only a preference');
      only.inflight = 100;
      only.latencyEwma = 900;
      assert.equal(selector.select(FIXED), only);
      only.available = false;
      assert.equal(selector.select(FIXED), undefined);
      only.available = true;
      assert.equal(selector.select(FIXED), only);
    });

    it('chooses every endpoint eventually over varied requests', () => {
      const eps = endpoints(5, [1, 2, 1, 3, 1]);
      const selector = build(c, eps, seededRandom(99));
      const seen = new Map<UpstreamEndpoint, number>();
      for (let k = 0; k < 3000; k++) {
        const e = selector.select(variedInput(k))!;
        seen.set(e, (seen.get(e) ?? 0) + 1);
        // Simulate some load so least_conn and p2c see differing inflight.
        e.inflight++;
        if (k % 3 === 0) for (const x of eps) if (x.inflight > 0) x.inflight--;
      }
      for (const e of eps) assert.ok((seen.get(e) ?? 0) > 0, `${e.address} never chosen: ${[...seen.values()]}`);
    });

    it('stays correct while endpoints toggle availability, and recovers all of them afterwards', () => {
      const op = fc.oneof(
        fc.record({ t: fc.constant('toggle' as const), i: fc.nat() }),
        fc.record({ t: fc.constant('load' as const), i: fc.nat(), inflight: fc.integer({ min: 0, max: 10 }) }),
        fc.record({ t: fc.constant('select' as const), k: fc.nat(), exclude: fc.option(fc.nat(), { nil: undefined }) }),
      );
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 120 }), fc.integer(), (n, ops, seed) => {
          const eps = endpoints(n, [1, 3, 2, 1, 1]);
          const selector = build(c, eps, seededRandom(seed));
          for (const o of ops) {
            if (o.t === 'toggle') eps[o.i % n].available = !eps[o.i % n].available;
            else if (o.t === 'load') eps[o.i % n].inflight = o.inflight;
            else {
              const exclude = o.exclude === undefined ? undefined : eps[o.exclude % n];
              const picked = selector.select(variedInput(o.k), exclude);
              if (availableCount(eps) === 0) assert.equal(picked, undefined);
              else assert.ok(picked?.available === true);
            }
          }
          for (const e of eps) {
            e.available = true;
            e.inflight = 0;
          }
          const seen = new Set<UpstreamEndpoint>();
          for (let k = 0; k < 600 && seen.size < n; k++) seen.add(selector.select(variedInput(k))!);
          assert.equal(seen.size, n, 'every endpoint is chosen again once available');
        }),
        { numRuns: 100 },
      );
    });

    it('is deterministic given a seeded random source', () => {
      const run = (): string[] => {
        const eps = endpoints(4, [2, 1, 1, 3]);
        const selector = build(c, eps, seededRandom(2024));
        const out: string[] = [];
        const rng = seededRandom(5);
        for (let k = 0; k < 500; k++) {
          if (k % 50 === 0) eps[k % 4].available = !eps[k % 4].available;
          eps[k % 4].inflight = Math.floor(rng() * 5);
          eps[(k + 1) % 4].latencyEwma = rng() * 30;
          out.push(selector.select(variedInput(k), k % 5 === 0 ? eps[0] : undefined)?.address ?? '-');
        }
        return out;
      };
      assert.deepEqual(run(), run());
    });
  });
}
