import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoffMs, decideRetry, isIdempotent, type RetryInput } from '../../src/proxy/retry-policy.js';
import type { RetryConfig } from '../../src/config/types.js';
import { ERROR_CODES } from '../../src/errors.js';
import { seededRandom } from '../helpers/seeded-random.js';

const CONFIG: RetryConfig = {
  max_retries: 3,
  backoff_base: 100,
  backoff_max: 10_000,
  retryable_codes: [502, 503, 504],
  buffer_limit: 65_536,
  budget_percent: 20,
  min_retry_concurrency: 3,
};

function input(overrides: Partial<RetryInput> & { outcome?: RetryInput['outcome'] } = {}): RetryInput {
  return {
    retriesDone: 0,
    config: CONFIG,
    method: 'GET',
    routeAllowsNonIdempotent: false,
    outcome: { status: 503, neverReachedUpstream: false },
    bodyReplayable: true,
    budgetAllows: true,
    random: () => 0.5,
    ...overrides,
  };
}

function reason(i: RetryInput): string {
  const d = decideRetry(i);
  return d.retry ? 'retry' : d.reason;
}

test('backoffMs: random 0.5 gives the seed table exactly (100, 200, 400, …)', () => {
  const mid = () => 0.5;
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n, 100, 10_000, mid)), [100, 200, 400, 800, 1600]);
});

test('backoffMs: bounds are [0.5, 1.5) × nominal, capped at max', () => {
  assert.equal(backoffMs(1, 100, 10_000, () => 0), 50);
  assert.equal(backoffMs(1, 100, 10_000, () => 0.999999), 149);
  assert.equal(backoffMs(3, 100, 10_000, () => 0), 200);
  // 100 × 2^7 = 12800 → nominal capped at 10000; jitter up stays capped
  assert.equal(backoffMs(8, 100, 10_000, () => 0.9), 10_000);
  assert.equal(backoffMs(8, 100, 10_000, () => 0), 5_000);
  assert.equal(backoffMs(7, 100, 10_000, () => 0.9), 8_960, '6400 × 1.4, under the cap');
  assert.equal(backoffMs(7, 100, 10_000, () => 0.99), 9_536, '6400 × 1.49');
});

test('backoffMs: degenerate inputs never give NaN or negative values', () => {
  assert.equal(backoffMs(1, 0, 10_000, () => 0.5), 0);
  assert.equal(backoffMs(1, 100, 0, () => 0.5), 0);
  assert.equal(backoffMs(5000, 100, 10_000, () => 0.7), 10_000);
  assert.equal(backoffMs(0, 100, 10_000, () => 0.5), 100, 'retry 0 treated as 1');
  assert.equal(backoffMs(1, 100, 10_000, () => Number.NaN), 50);
  assert.equal(backoffMs(1, 100, 10_000, () => 1), 149);
});

test('backoffMs property: within [floor(0.5 × nominal), min(max, 1.5 × nominal)], integer', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 80 }),
      fc.integer({ min: 1, max: 5_000 }),
      fc.integer({ min: 1, max: 60_000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (n, base, max, r) => {
        const d = backoffMs(n, base, max, () => r);
        const nominal = Math.min(max, base * 2 ** (n - 1));
        assert.ok(Number.isInteger(d));
        assert.ok(d >= Math.floor(nominal * 0.5) && d <= max && d <= nominal * 1.5, `${d} for n=${n} base=${base} max=${max}`);
      },
    ),
    { seed: 42, numRuns: 1000 },
  );
});

test('backoffMs: mean over a seeded random source is near the seed table', () => {
  const random = seededRandom(7);
  for (const [n, expected] of [[1, 100], [2, 200], [3, 400]] as const) {
    let sum = 0;
    for (let i = 0; i < 5000; i++) sum += backoffMs(n, 100, 10_000, random);
    const mean = sum / 5000;
    assert.ok(Math.abs(mean - expected) < expected * 0.03, `mean ${mean} for retry ${n}`);
  }
});

test('isIdempotent', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) assert.equal(isIdempotent(m), true, m);
  for (const m of ['POST', 'PATCH', 'CONNECT', 'get', 'PROPFIND', '']) assert.equal(isIdempotent(m), false, m);
});

test('retryable status on GET → retry with the backoff of retry number retriesDone + 1', () => {
  assert.deepEqual(decideRetry(input()), { retry: true, delayMs: 100 });
  assert.deepEqual(decideRetry(input({ retriesDone: 2 })), { retry: true, delayMs: 400 });
});

test('max_retries', () => {
  assert.equal(reason(input({ retriesDone: 3 })), 'max_retries');
  assert.equal(reason(input({ retriesDone: 0, config: { ...CONFIG, max_retries: 0 } })), 'max_retries');
  assert.equal(reason(input({ retriesDone: 3, outcome: { errorCode: 'LOOM_ERR_UPSTREAM_CONNECT', neverReachedUpstream: true } })), 'max_retries');
});

test('statuses: only retryable_codes', () => {
  for (const status of [200, 404, 500, 501, 429]) assert.equal(reason(input({ outcome: { status, neverReachedUpstream: false } })), 'status_not_retryable', String(status));
  for (const status of [502, 503, 504]) assert.equal(reason(input({ outcome: { status, neverReachedUpstream: false } })), 'retry');
  assert.equal(reason(input({ config: { ...CONFIG, retryable_codes: [500, 429] }, outcome: { status: 429, neverReachedUpstream: false } })), 'retry');
});

test('statuses on non-idempotent methods need the route opt-in', () => {
  assert.equal(reason(input({ method: 'POST' })), 'non_idempotent');
  assert.equal(reason(input({ method: 'PATCH' })), 'non_idempotent');
  assert.equal(reason(input({ method: 'POST', routeAllowsNonIdempotent: true })), 'retry');
  assert.equal(reason(input({ method: 'PUT' })), 'retry');
});

test('connect errors and connect timeouts: any method', () => {
  for (const errorCode of ['LOOM_ERR_UPSTREAM_CONNECT', 'LOOM_ERR_UPSTREAM_CONNECT_TIMEOUT']) {
    for (const method of ['GET', 'POST', 'PATCH']) {
      assert.equal(reason(input({ method, outcome: { errorCode, neverReachedUpstream: true } })), 'retry', `${method} ${errorCode}`);
    }
  }
});

test('reset, protocol error, read timeout: idempotent methods or route opt-in', () => {
  for (const errorCode of ['LOOM_ERR_UPSTREAM_RESET', 'LOOM_ERR_UPSTREAM_TIMEOUT', 'LOOM_ERR_UPSTREAM_PROTOCOL']) {
    const outcome = { errorCode, neverReachedUpstream: false };
    assert.equal(reason(input({ method: 'GET', outcome })), 'retry', errorCode);
    assert.equal(reason(input({ method: 'DELETE', outcome })), 'retry', errorCode);
    assert.equal(reason(input({ method: 'POST', outcome })), 'non_idempotent', errorCode);
    assert.equal(reason(input({ method: 'POST', outcome, routeAllowsNonIdempotent: true })), 'retry', errorCode);
    // the caller knows the request never left (e.g. reset while connecting): any method
    assert.equal(reason(input({ method: 'POST', outcome: { errorCode, neverReachedUpstream: true } })), 'retry', errorCode);
  }
});

test('the error code wins over a status; status is ignored for transport errors', () => {
  assert.equal(reason(input({ outcome: { status: 200, errorCode: 'LOOM_ERR_UPSTREAM_RESET', neverReachedUpstream: false } })), 'retry');
  assert.equal(reason(input({ outcome: { status: 503, errorCode: 'LOOM_ERR_CLIENT_ABORTED', neverReachedUpstream: false } })), 'error_not_retryable');
});

test('client, internal and no-endpoint errors are never retried', () => {
  for (const errorCode of ['LOOM_ERR_CLIENT_ABORTED', 'LOOM_ERR_INTERNAL', 'LOOM_ERR_BAD_REQUEST', 'LOOM_ERR_NO_ENDPOINT', 'SOMETHING_ELSE']) {
    assert.equal(reason(input({ outcome: { errorCode, neverReachedUpstream: true } })), 'error_not_retryable', errorCode);
  }
});

test('any upstream code errors.ts marks retryable (never reached) is retried for any method', () => {
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    if (spec.source !== 'upstream' || !spec.retryable) continue;
    assert.equal(reason(input({ method: 'POST', outcome: { errorCode: code, neverReachedUpstream: true } })), 'retry', code);
  }
  assert.equal(reason(input({ outcome: { errorCode: 'toString', neverReachedUpstream: true } })), 'error_not_retryable');
});

test('no error and no status: nothing to retry', () => {
  assert.equal(reason(input({ outcome: { neverReachedUpstream: false } })), 'success');
});

test('a body that was streamed is never retried, even for connect errors', () => {
  assert.equal(reason(input({ bodyReplayable: false })), 'body_not_replayable');
  assert.equal(reason(input({ bodyReplayable: false, outcome: { errorCode: 'LOOM_ERR_UPSTREAM_CONNECT', neverReachedUpstream: true } })), 'body_not_replayable');
});

test('budget: boolean, or a function called only when everything else says yes', () => {
  assert.equal(reason(input({ budgetAllows: false })), 'budget_exhausted');
  let calls = 0;
  const budget = (): boolean => {
    calls++;
    return true;
  };
  assert.equal(reason(input({ budgetAllows: budget, retriesDone: 3 })), 'max_retries');
  assert.equal(reason(input({ budgetAllows: budget, bodyReplayable: false })), 'body_not_replayable');
  assert.equal(reason(input({ budgetAllows: budget, method: 'POST' })), 'non_idempotent');
  assert.equal(reason(input({ budgetAllows: budget, outcome: { status: 404, neverReachedUpstream: false } })), 'status_not_retryable');
  assert.equal(calls, 0);
  assert.equal(reason(input({ budgetAllows: budget })), 'retry');
  assert.equal(calls, 1);
  assert.equal(reason(input({ budgetAllows: () => false })), 'budget_exhausted');
});

test('refusals are preallocated (same object each time, no allocation)', () => {
  assert.equal(decideRetry(input({ retriesDone: 9 })), decideRetry(input({ retriesDone: 9 })));
});

test('property: a retry never exceeds max_retries and its delay is within backoff_max', () => {
  fc.assert(
    fc.property(
      fc.nat({ max: 6 }),
      fc.nat({ max: 5 }),
      fc.constantFrom('GET', 'POST', 'PUT', 'PATCH'),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      fc.oneof<fc.Arbitrary<RetryInput['outcome']>[]>(
        fc.record({ status: fc.constantFrom(200, 404, 500, 502, 503, 504), neverReachedUpstream: fc.constant(false) }),
        fc.record({
          errorCode: fc.constantFrom('LOOM_ERR_UPSTREAM_CONNECT', 'LOOM_ERR_UPSTREAM_RESET', 'LOOM_ERR_UPSTREAM_TIMEOUT', 'LOOM_ERR_CLIENT_ABORTED'),
          neverReachedUpstream: fc.boolean(),
        }),
      ),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (retriesDone, maxRetries, method, optIn, replayable, budget, outcome, r) => {
        const d = decideRetry(
          input({ retriesDone, config: { ...CONFIG, max_retries: maxRetries }, method, routeAllowsNonIdempotent: optIn, bodyReplayable: replayable, budgetAllows: budget, outcome, random: () => r }),
        );
        if (d.retry) {
          assert.ok(retriesDone < maxRetries);
          assert.ok(replayable && budget);
          assert.ok(d.delayMs >= 0 && d.delayMs <= CONFIG.backoff_max);
          if (outcome.errorCode === 'LOOM_ERR_CLIENT_ABORTED') assert.fail('retried a client abort');
          const reached = !outcome.neverReachedUpstream && outcome.errorCode !== 'LOOM_ERR_UPSTREAM_CONNECT';
          if (reached && !optIn && !isIdempotent(method)) assert.fail('retried a non-idempotent request that reached the upstream');
        }
      },
    ),
    { seed: 99, numRuns: 2000 },
  );
});
