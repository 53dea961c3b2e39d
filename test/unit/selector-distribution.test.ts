// Each load-balancing policy's own promise (the shared contract is in
// test/conformance/selector.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import type { HashKeySource, LoadBalancerKind } from '../../src/config/types.js';
import { createEndpoint, type UpstreamEndpoint } from '../../src/upstream/endpoint.js';
import { createSelector } from '../../src/upstream/selection/create-selector.js';
import { hash32 } from '../../src/upstream/selection/hash32.js';
import { hashCookie, hashQueryParam } from '../../src/upstream/selection/hash-key.js';
import type { SelectionInput, Selector } from '../../src/upstream/selection/selector.js';
import { seededRandom } from '../helpers/seeded-random.js';

function endpoints(n: number, weights?: readonly number[]): UpstreamEndpoint[] {
  return Array.from({ length: n }, (_, i) => createEndpoint(`api-${i + 1}.internal:8080`, i, weights?.[i] ?? 1));
}

function build(kind: LoadBalancerKind, eps: readonly UpstreamEndpoint[], hashKey: HashKeySource = { kind: 'client_ip' }, seed = 1): Selector {
  return createSelector(kind, eps, { hashKey, replicas: 160, random: seededRandom(seed) });
}

function req(clientIp = '10.0.0.1', headers: IncomingHttpHeaders = {}, rawQuery = ''): SelectionInput {
  return { clientIp, headers, rawQuery };
}

const NO_INPUT = req();

function names(picks: readonly (UpstreamEndpoint | undefined)[]): string {
  return picks.map((e) => (e === undefined ? '-' : String.fromCharCode(97 + e.index))).join('');
}

function pickMany(selector: Selector, count: number, input: (k: number) => SelectionInput = () => NO_INPUT): (UpstreamEndpoint | undefined)[] {
  return Array.from({ length: count }, (_, k) => selector.select(input(k)));
}

function tally(picks: readonly (UpstreamEndpoint | undefined)[], eps: readonly UpstreamEndpoint[]): number[] {
  const counts = eps.map(() => 0);
  for (const e of picks) if (e !== undefined) counts[eps.indexOf(e)]++;
  return counts;
}

function ipFor(k: number): string {
  return `10.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
}

function assertNear(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} not within ${expected} ± ${tolerance}`);
}

describe('round_robin', () => {
  it('cycles 1 → 2 → 3 → 1 …', () => {
    const eps = endpoints(3);
    assert.equal(names(pickMany(build('round_robin', eps), 7)), 'abcabca');
  });

  it('skips unavailable endpoints and resumes them when they return', () => {
    const eps = endpoints(3);
    const s = build('round_robin', eps);
    eps[1].available = false;
    assert.equal(names(pickMany(s, 4)), 'acac');
    eps[1].available = true;
    assert.equal(names(pickMany(s, 3)), 'abc');
  });

  it('ignores weights (weighted rotation is the weighted policy)', () => {
    assert.equal(names(pickMany(build('round_robin', endpoints(2, [5, 1])), 4)), 'abab');
  });

  it('moves on past an excluded endpoint', () => {
    const eps = endpoints(3);
    const s = build('round_robin', eps);
    assert.equal(s.select(NO_INPUT, eps[0]), eps[1]);
    assert.equal(s.select(NO_INPUT), eps[2]);
  });
});

describe('weighted (nginx smooth weighted round robin)', () => {
  it('gives nginx\'s sequence for 5:1:1: a a b a c a a', () => {
    const s = build('weighted', endpoints(3, [5, 1, 1]));
    assert.equal(names(pickMany(s, 14)), 'aabacaa'.repeat(2));
  });

  it('splits 70/30 within 2% over 10k picks, smoothly', () => {
    const eps = endpoints(2, [70, 30]);
    const picks = pickMany(build('weighted', eps), 10_000);
    const [a, b] = tally(picks, eps);
    assertNear(a / 10_000, 0.7, 0.02, 'share of api-1');
    assertNear(b / 10_000, 0.3, 0.02, 'share of api-2');
    const seq = names(picks);
    assert.ok(!seq.includes('aaaa'), 'never more than 3 consecutive picks of the heavy endpoint');
    assert.ok(!seq.includes('bb'), 'the light endpoint is never picked twice in a row');
  });

  it('shares an unavailable endpoint\'s traffic by the remaining weights', () => {
    const eps = endpoints(3, [2, 1, 1]);
    const s = build('weighted', eps);
    eps[0].available = false;
    const counts = tally(pickMany(s, 1000), eps);
    assert.deepEqual(counts, [0, 500, 500]);
  });
});

describe('least_conn', () => {
  it('picks the endpoint with the fewest in-flight requests', () => {
    const eps = endpoints(3);
    const s = build('least_conn', eps);
    eps[0].inflight = 4;
    eps[1].inflight = 1;
    eps[2].inflight = 3;
    for (let i = 0; i < 10; i++) assert.equal(s.select(NO_INPUT), eps[1]);
    assert.equal(s.select(NO_INPUT, eps[1]), eps[2], 'the next-least loaded when excluding the least');
  });

  it('compares inflight / weight, as nginx does', () => {
    const eps = endpoints(2, [3, 1]);
    const s = build('least_conn', eps);
    eps[0].inflight = 5; // 5/3 ≈ 1.67
    eps[1].inflight = 2; // 2/1 = 2
    assert.equal(s.select(NO_INPUT), eps[0]);
    eps[0].inflight = 7; // 2.33
    assert.equal(s.select(NO_INPUT), eps[1]);
  });

  it('rotates among tied endpoints instead of always taking the first', () => {
    const eps = endpoints(3);
    assert.equal(names(pickMany(build('least_conn', eps), 6)), 'abcabc');
  });

  it('breaks ties in proportion to weight (smooth weighted round robin among the tied)', () => {
    const eps = endpoints(3, [2, 1, 5]);
    eps[2].inflight = 10; // out of the tie
    const counts = tally(pickMany(build('least_conn', eps), 300), eps);
    assert.deepEqual(counts, [200, 100, 0]);
  });

  it('spreads simulated load evenly', () => {
    const eps = endpoints(4);
    const s = build('least_conn', eps);
    const rng = seededRandom(3);
    for (let k = 0; k < 5000; k++) {
      s.select(NO_INPUT)!.inflight++;
      const done = eps[Math.floor(rng() * eps.length)];
      if (done.inflight > 0) done.inflight--;
      const spread = Math.max(...eps.map((e) => e.inflight)) - Math.min(...eps.map((e) => e.inflight));
      assert.ok(spread <= 12, `in-flight spread ${spread} at step ${k}`);
    }
  });
});

describe('random', () => {
  it('is roughly uniform (chi-square and ±5%)', () => {
    const eps = endpoints(4);
    const n = 20_000;
    const counts = tally(pickMany(build('random', eps, undefined, 11), n), eps);
    const expected = n / 4;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 16.27, `chi-square ${chi2.toFixed(2)} ≥ 16.27 (df 3, p 0.001): ${counts}`);
    for (const c of counts) assertNear(c, expected, expected * 0.05, 'count');
  });

  it('follows weights when they differ', () => {
    const eps = endpoints(2, [3, 1]);
    const [a] = tally(pickMany(build('random', eps, undefined, 12), 20_000), eps);
    assertNear(a / 20_000, 0.75, 0.02, 'share of the weight-3 endpoint');
  });

  it('is uniform over the available endpoints only', () => {
    const eps = endpoints(3);
    eps[1].available = false;
    const counts = tally(pickMany(build('random', eps, undefined, 13), 10_000), eps);
    assert.equal(counts[1], 0);
    assertNear(counts[0], 5000, 250, 'api-1');
  });
});

describe('ip_hash', () => {
  it('sends the same IP to the same endpoint, across selector rebuilds', () => {
    const eps = endpoints(3);
    const s = build('ip_hash', eps);
    const again = build('ip_hash', endpoints(3));
    for (let k = 0; k < 200; k++) {
      const ip = ipFor(k * 7919);
      const first = s.select(req(ip))!;
      for (let i = 0; i < 3; i++) assert.equal(s.select(req(ip)), first);
      assert.equal(again.select(req(ip))!.address, first.address);
    }
  });

  it('hashes the whole address: one /24 spreads over the endpoints (unlike nginx)', () => {
    const eps = endpoints(3);
    const s = build('ip_hash', eps);
    const counts = tally(pickMany(s, 256, (k) => req(`203.0.113.${k}`)), eps);
    for (const c of counts) assert.ok(c > 40, `one /24 piles up: ${counts}`);
  });

  it('treats ::ffff:a.b.c.d as a.b.c.d', () => {
    const s = build('ip_hash', endpoints(5));
    for (let k = 0; k < 100; k++) {
      const ip = ipFor(k * 104729);
      assert.equal(s.select(req(`::ffff:${ip}`)), s.select(req(ip)));
      assert.equal(s.select(req(`::FFFF:${ip}`)), s.select(req(ip)));
    }
  });

  it('spreads different IPs within ±30% of an even share over 3 endpoints', () => {
    const eps = endpoints(3);
    const n = 10_000;
    const counts = tally(pickMany(build('ip_hash', eps), n, (k) => req(ipFor(k * 2654435761))), eps);
    for (const c of counts) assertNear(c, n / 3, (n / 3) * 0.3, `count (${counts})`);
  });

  it('moves only the clients of an unavailable endpoint, and moves them back', () => {
    const eps = endpoints(4);
    const s = build('ip_hash', eps);
    const ips = Array.from({ length: 2000 }, (_, k) => ipFor(k * 40503));
    const before = ips.map((ip) => s.select(req(ip)));
    eps[2].available = false;
    ips.forEach((ip, k) => {
      const now = s.select(req(ip))!;
      if (before[k] === eps[2]) assert.notEqual(now, eps[2]);
      else assert.equal(now, before[k]);
    });
    eps[2].available = true;
    ips.forEach((ip, k) => assert.equal(s.select(req(ip)), before[k]));
  });
});

/** Share of keys that move when `removed` is dropped, asserting they all came from it. */
function movedShare(kind: LoadBalancerKind, hashKey: HashKeySource, input: (k: number) => SelectionInput, removed: number): number {
  const eps = endpoints(5);
  const full = build(kind, eps, hashKey);
  const rest = build(kind, eps.filter((_, i) => i !== removed), hashKey);
  const n = 10_000;
  let moved = 0;
  for (let k = 0; k < n; k++) {
    const before = full.select(input(k));
    const after = rest.select(input(k));
    if (before !== after) {
      moved++;
      assert.equal(before, eps[removed], `key ${k} moved from ${before?.address}, which was not removed`);
    }
  }
  return moved / n;
}

describe('consistent_hash', () => {
  const byHeader: HashKeySource = { kind: 'header', name: 'X-User' };

  it('keys by header (any case in config, first value of a repeated header)', () => {
    const s = build('consistent_hash', endpoints(5), byHeader);
    for (let k = 0; k < 100; k++) {
      const e = s.select(req(ipFor(k), { 'x-user': `user-${k}` }));
      assert.equal(s.select(req(ipFor(k + 1000), { 'x-user': `user-${k}` })), e, 'the client IP does not matter');
      assert.equal(s.select(req('1.2.3.4', { 'x-user': [`user-${k}`, 'other'] })), e);
    }
  });

  it('keys by one cookie out of the Cookie header', () => {
    const s = build('consistent_hash', endpoints(5), { kind: 'cookie', name: 'sid' });
    for (let k = 0; k < 100; k++) {
      const e = s.select(req(ipFor(k), { cookie: `sid=s${k}` }));
      for (const cookie of [`theme=dark; sid=s${k}`, `a=1;sid=s${k};b=2`, `  sid=s${k}  `, `xsid=zz; sid="s${k}"; sid=later`]) {
        assert.equal(s.select(req(ipFor(k + 5000), { cookie })), e, cookie);
      }
    }
  });

  it('keys by one raw query parameter', () => {
    const s = build('consistent_hash', endpoints(5), { kind: 'query', name: 'user' });
    for (let k = 0; k < 100; k++) {
      const e = s.select(req(ipFor(k), {}, `user=q${k}`));
      for (const q of [`a=1&user=q${k}`, `user=q${k}&user=other`, `username=zz&user=q${k}&b`]) {
        assert.equal(s.select(req(ipFor(k + 5000), {}, q)), e, q);
      }
    }
  });

  it('keys by client IP', () => {
    const byIp = build('consistent_hash', endpoints(5), { kind: 'client_ip' });
    const ipHash = build('ip_hash', endpoints(5));
    for (let k = 0; k < 200; k++) {
      const ip = ipFor(k * 7);
      assert.equal(byIp.select(req(ip))!.address, ipHash.select(req(ip))!.address);
    }
  });

  it('falls back to the client IP when the key is missing or empty', () => {
    const cases: [HashKeySource, SelectionInput[]][] = [
      [byHeader, [req('', {}), req('', { 'x-user': '' })]],
      [{ kind: 'cookie', name: 'sid' }, [req('', {}), req('', { cookie: 'a=1; xsid=2' }), req('', { cookie: 'sid=' })]],
      [{ kind: 'query', name: 'user' }, [req('', {}, ''), req('', {}, 'username=x'), req('', {}, 'user'), req('', {}, 'a=1&user=')]],
    ];
    const byIp = build('consistent_hash', endpoints(5), { kind: 'client_ip' });
    for (const [hashKey, inputs] of cases) {
      const s = build('consistent_hash', endpoints(5), hashKey);
      for (let k = 0; k < 100; k++) {
        const ip = ipFor(k * 13);
        for (const input of inputs) {
          assert.equal(s.select({ ...input, clientIp: ip })!.address, byIp.select(req(ip))!.address, JSON.stringify(input));
        }
      }
    }
  });

  it('spreads keys evenly and by weight', () => {
    const eps = endpoints(5);
    const n = 10_000;
    const counts = tally(pickMany(build('consistent_hash', eps, byHeader), n, (k) => req('1.1.1.1', { 'x-user': `user-${k}` })), eps);
    for (const c of counts) assertNear(c, n / 5, (n / 5) * 0.25, `count (${counts})`);
    const weighted = endpoints(2, [3, 1]);
    const [a] = tally(pickMany(build('consistent_hash', weighted, byHeader), n, (k) => req('1.1.1.1', { 'x-user': `user-${k}` })), weighted);
    assertNear(a / n, 0.75, 0.05, 'share of the weight-3 endpoint');
  });

  it('moves about 1/N of keys when one of N endpoints is removed, only away from it', () => {
    const sources: [HashKeySource, (k: number) => SelectionInput][] = [
      [byHeader, (k) => req('1.1.1.1', { 'x-user': `user-${k}` })],
      [{ kind: 'cookie', name: 'sid' }, (k) => req('1.1.1.1', { cookie: `sid=${k.toString(36)}` })],
      [{ kind: 'query', name: 'user' }, (k) => req('1.1.1.1', {}, `user=${k}`)],
      [{ kind: 'client_ip' }, (k) => req(ipFor(k * 97))],
    ];
    for (const [hashKey, input] of sources) {
      for (let removed = 0; removed < 5; removed++) {
        assertNear(movedShare('consistent_hash', hashKey, input, removed), 0.2, 0.05, `${hashKey.kind}, removing #${removed}`);
      }
    }
  });

  it('ip_hash has the same 1/N property', () => {
    for (let removed = 0; removed < 5; removed++) {
      assertNear(movedShare('ip_hash', { kind: 'client_ip' }, (k) => req(ipFor(k * 31)), removed), 0.2, 0.05, `removing #${removed}`);
    }
  });

  it('walks clockwise past unavailable endpoints to the same place a rebuilt ring would', () => {
    const eps = endpoints(5);
    const s = build('consistent_hash', eps, byHeader);
    const rebuilt = build('consistent_hash', eps.filter((_, i) => i !== 3), byHeader);
    eps[3].available = false;
    for (let k = 0; k < 2000; k++) {
      const input = req('1.1.1.1', { 'x-user': `user-${k}` });
      assert.equal(s.select(input), rebuilt.select(input));
    }
  });

  it('parses keys in place (helpers)', () => {
    assert.equal(hashCookie('a=1; sid=abc; b=2', 'sid'), hash32('abc'));
    assert.equal(hashCookie('a=1; sid="abc"', 'sid'), hash32('abc'));
    assert.equal(hashCookie('sidx=1; sid=abc', 'sid'), hash32('abc'));
    assert.equal(hashCookie('a=1', 'sid'), -1);
    assert.equal(hashQueryParam('x=1&user=bob&y=2', 'user'), hash32('bob'));
    assert.equal(hashQueryParam('user=a%20b', 'user'), hash32('a%20b'), 'raw, not decoded');
    assert.equal(hashQueryParam('users=1&user', 'user'), -1);
    assert.equal(hash32('abcdef', 2, 5), hash32('cde'), 'a substring hashes like the slice');
  });

  it('hash32 avalanches: keys differing in one character spread over the ring', () => {
    const buckets = new Array(16).fill(0);
    for (let k = 0; k < 16_000; k++) buckets[hash32(`user-${k}`) >>> 28]++;
    const chi2 = buckets.reduce((sum, c) => sum + (c - 1000) ** 2 / 1000, 0);
    assert.ok(chi2 < 37.7, `chi-square ${chi2.toFixed(1)} ≥ 37.7 (df 15, p 0.001)`);
  });
});

describe('p2c', () => {
  it('avoids an endpoint with far more in-flight requests', () => {
    const eps = endpoints(4);
    eps[0].inflight = 50;
    const counts = tally(pickMany(build('p2c', eps, undefined, 21), 10_000), eps);
    assert.ok(counts[0] < 100, `busy endpoint got ${counts[0]} picks`);
    for (const c of counts.slice(1)) assertNear(c, 10_000 / 3, 400, 'idle endpoint');
  });

  it('avoids an endpoint with far higher latency', () => {
    const eps = endpoints(4);
    for (const e of eps) e.latencyEwma = 10;
    eps[2].latencyEwma = 200;
    const counts = tally(pickMany(build('p2c', eps, undefined, 22), 10_000), eps);
    assert.ok(counts[2] < 100, `slow endpoint got ${counts[2]} picks`);
  });

  it('weighs inflight against latency: (inflight + 1) × latency', () => {
    const eps = endpoints(2);
    const s = build('p2c', eps, undefined, 23);
    eps[0].latencyEwma = 10;
    eps[0].inflight = 3; // cost 40
    eps[1].latencyEwma = 50;
    eps[1].inflight = 0; // cost 50
    for (let i = 0; i < 20; i++) assert.equal(s.select(NO_INPUT), eps[0]);
    eps[0].inflight = 5; // cost 60
    for (let i = 0; i < 20; i++) assert.equal(s.select(NO_INPUT), eps[1]);
  });

  it('compares an unsampled endpoint on inflight alone', () => {
    const eps = endpoints(2);
    const s = build('p2c', eps, undefined, 24);
    eps[0].latencyEwma = 40;
    eps[0].inflight = 0;
    eps[1].latencyEwma = 0; // no sample yet: borrows 40
    eps[1].inflight = 2;
    for (let i = 0; i < 20; i++) assert.equal(s.select(NO_INPUT), eps[0]);
  });

  it('spreads evenly when all endpoints are equal', () => {
    const eps = endpoints(5);
    const n = 20_000;
    const counts = tally(pickMany(build('p2c', eps, undefined, 25), n), eps);
    for (const c of counts) assertNear(c, n / 5, (n / 5) * 0.05, `count (${counts})`);
  });

  it('spreads idle traffic in proportion to weight', () => {
    const eps = endpoints(2, [1, 3]);
    const [a] = tally(pickMany(build('p2c', eps, undefined, 26), 20_000), eps);
    assertNear(a / 20_000, 0.25, 0.02, 'share of the weight-1 endpoint');
  });

  it('keeps in-flight requests balanced under simulated load', () => {
    const eps = endpoints(5);
    const s = build('p2c', eps, undefined, 27);
    const rng = seededRandom(28);
    let maxSpread = 0;
    for (let k = 0; k < 5000; k++) {
      s.select(NO_INPUT)!.inflight++;
      const done = eps[Math.floor(rng() * eps.length)];
      if (done.inflight > 0) done.inflight--;
      maxSpread = Math.max(maxSpread, Math.max(...eps.map((e) => e.inflight)) - Math.min(...eps.map((e) => e.inflight)));
    }
    assert.ok(maxSpread <= 15, `in-flight spread reached ${maxSpread}`);
  });
});
