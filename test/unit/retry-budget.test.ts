import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RetryBudget } from '../../src/proxy/retry-budget.js';

test('min_retry_concurrency retries are always allowed, even with no traffic', () => {
  const b = new RetryBudget(20, 3);
  assert.equal(b.tryStartRetry(), true);
  assert.equal(b.tryStartRetry(), true);
  assert.equal(b.tryStartRetry(), true);
  assert.equal(b.tryStartRetry(), false);
  b.retryFinished();
  assert.equal(b.tryStartRetry(), true);
});

test('budget_percent of active requests once above the floor', () => {
  const b = new RetryBudget(20, 3);
  for (let i = 0; i < 100; i++) b.requestStarted();
  assert.equal(b.maxRetries, 20);
  for (let i = 0; i < 20; i++) assert.equal(b.tryStartRetry(), true, `retry ${i}`);
  assert.equal(b.tryStartRetry(), false);
  assert.deepEqual(b.snapshot(), { active_requests: 100, active_retries: 20, max_retries_now: 20 });
  // traffic drops: no new retries until the running ones finish below the new limit
  for (let i = 0; i < 50; i++) b.requestFinished();
  assert.equal(b.maxRetries, 10);
  assert.equal(b.tryStartRetry(), false);
  for (let i = 0; i < 11; i++) b.retryFinished();
  assert.equal(b.activeRetries, 9);
  assert.equal(b.tryStartRetry(), true);
  assert.equal(b.tryStartRetry(), false);
});

test('floor(active × percent / 100): 24 active at 20% → 4', () => {
  const b = new RetryBudget(20, 0);
  for (let i = 0; i < 24; i++) b.requestStarted();
  assert.equal(b.maxRetries, 4);
  const c = new RetryBudget(20, 0);
  for (let i = 0; i < 4; i++) c.requestStarted();
  assert.equal(c.maxRetries, 0);
  assert.equal(c.tryStartRetry(), false);
});

test('percent 0 with a floor; 100 % allows one retry per active request', () => {
  const zero = new RetryBudget(0, 1);
  for (let i = 0; i < 1000; i++) zero.requestStarted();
  assert.equal(zero.maxRetries, 1);
  const full = new RetryBudget(100, 0);
  for (let i = 0; i < 7; i++) full.requestStarted();
  assert.equal(full.maxRetries, 7);
  assert.equal(new RetryBudget(250, 0).maxRetries, 0, 'percent clamped to 100');
});

test('unbalanced finishes clamp at zero', () => {
  const b = new RetryBudget(20, 3);
  b.requestFinished();
  b.retryFinished();
  assert.deepEqual(b.snapshot(), { active_requests: 0, active_retries: 0, max_retries_now: 3 });
});

test('tryStartRetry works unbound (passed as decideRetry budgetAllows)', () => {
  const b = new RetryBudget(20, 1);
  const take = b.tryStartRetry;
  assert.equal(take(), true);
  assert.equal(take(), false);
  assert.equal(b.activeRetries, 1);
});

test('property: concurrent retries never exceed max(min, floor(active × pct / 100)) at the time each started', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 100 }),
      fc.integer({ min: 0, max: 5 }),
      fc.array(fc.constantFrom('start', 'finish', 'retry', 'retryDone'), { maxLength: 300 }),
      (pct, min, ops) => {
        const b = new RetryBudget(pct, min);
        let active = 0;
        let retries = 0;
        for (const op of ops) {
          if (op === 'start') {
            b.requestStarted();
            active++;
          } else if (op === 'finish' && active > 0) {
            b.requestFinished();
            active--;
          } else if (op === 'retry') {
            const limit = Math.max(min, Math.floor((active * pct) / 100));
            const ok = b.tryStartRetry();
            assert.equal(ok, retries < limit);
            if (ok) retries++;
          } else if (op === 'retryDone' && retries > 0) {
            b.retryFinished();
            retries--;
          }
          assert.equal(b.activeRetries, retries);
          assert.equal(b.activeRequests, active);
        }
      },
    ),
    { seed: 7, numRuns: 500 },
  );
});
