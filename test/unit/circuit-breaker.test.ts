import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CircuitBreaker, classifyFailure, CIRCUIT_STATE_CODE, type CircuitState } from '../../src/upstream/circuit-breaker.js';
import type { CircuitBreakerConfig, FailureKind } from '../../src/config/types.js';

const DEFAULTS: CircuitBreakerConfig = {
  failure_threshold: 5,
  success_threshold: 3,
  timeout: 30_000,
  half_open_requests: 1,
  failure_on: ['connect_error', 'timeout', '5xx'],
};

function make(overrides: Partial<CircuitBreakerConfig> = {}) {
  const clock = { t: 1_000 };
  const changes: Array<[CircuitState, CircuitState]> = [];
  const breaker = new CircuitBreaker({ ...DEFAULTS, ...overrides }, () => clock.t, (from, to) => changes.push([from, to]));
  return { breaker, clock, changes };
}

/** Acquire and report one outcome. */
function run(b: CircuitBreaker, failure: FailureKind | null): boolean {
  if (!b.tryAcquire()) return false;
  b.onResult(failure, b.epoch);
  return true;
}

function openIt(b: CircuitBreaker, n = DEFAULTS.failure_threshold): void {
  for (let i = 0; i < n; i++) assert.equal(run(b, '5xx'), true);
}

test('starts closed, code 0, lets everything through', () => {
  const { breaker } = make();
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.stateCode, 0);
  for (let i = 0; i < 100; i++) assert.equal(breaker.tryAcquire(), true);
  assert.deepEqual(CIRCUIT_STATE_CODE, { closed: 0, open: 1, half_open: 2 });
});

test('closed → open after failure_threshold consecutive failures, not before', () => {
  const { breaker, clock, changes } = make();
  openIt(breaker, 4);
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.snapshot().consecutive_failures, 4);
  run(breaker, 'timeout');
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.stateCode, 1);
  assert.equal(breaker.snapshot().opened_at, clock.t);
  assert.deepEqual(changes, [['closed', 'open']]);
});

test('a success in closed resets the consecutive failure count', () => {
  const { breaker } = make();
  openIt(breaker, 4);
  run(breaker, null);
  assert.equal(breaker.snapshot().consecutive_failures, 0);
  openIt(breaker, 4);
  assert.equal(breaker.state, 'closed');
  run(breaker, 'connect_error');
  assert.equal(breaker.state, 'open');
});

test('open refuses until timeout ms passed, then half-open lets one trial through', () => {
  const { breaker, clock, changes } = make();
  openIt(breaker);
  clock.t += 29_999;
  assert.equal(breaker.tryAcquire(), false);
  assert.equal(breaker.state, 'open');
  clock.t += 1;
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.state, 'half_open');
  assert.equal(breaker.stateCode, 2);
  assert.equal(breaker.snapshot().trials_in_flight, 1);
  assert.equal(breaker.tryAcquire(), false, 'second trial refused while the first is in flight');
  assert.deepEqual(changes, [['closed', 'open'], ['open', 'half_open']]);
});

test('half-open: success_threshold consecutive successes close the circuit', () => {
  const { breaker, clock, changes } = make();
  openIt(breaker);
  clock.t += 30_000;
  assert.equal(run(breaker, null), true);
  assert.equal(run(breaker, null), true);
  assert.equal(breaker.state, 'half_open');
  assert.equal(breaker.snapshot().consecutive_successes, 2);
  assert.equal(run(breaker, null), true);
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(changes.at(-1), ['half_open', 'closed']);
  const snap = breaker.snapshot();
  assert.equal(snap.consecutive_failures, 0);
  assert.equal(snap.trials_in_flight, 0);
  // closed again: it takes failure_threshold failures to reopen
  openIt(breaker, 4);
  assert.equal(breaker.state, 'closed');
});

test('half-open: any failure reopens and restarts the timer', () => {
  const { breaker, clock, changes } = make();
  openIt(breaker);
  clock.t += 30_000;
  run(breaker, null);
  run(breaker, null);
  const reopenAt = (clock.t += 5);
  run(breaker, 'timeout');
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.snapshot().opened_at, reopenAt);
  assert.deepEqual(changes.at(-1), ['half_open', 'open']);
  clock.t = reopenAt + 29_999;
  assert.equal(breaker.tryAcquire(), false);
  clock.t = reopenAt + 30_000;
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.state, 'half_open');
});

test('half_open_requests bounds concurrent trials; finishing one frees a slot', () => {
  const { breaker, clock } = make({ half_open_requests: 3, success_threshold: 10 });
  openIt(breaker);
  clock.t += 30_000;
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), false);
  assert.equal(breaker.snapshot().trials_in_flight, 3);
  breaker.onResult(null, breaker.epoch);
  assert.equal(breaker.snapshot().trials_in_flight, 2);
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.tryAcquire(), false);
});

test('release frees a half-open trial slot without counting an outcome', () => {
  const { breaker, clock } = make();
  openIt(breaker);
  clock.t += 30_000;
  assert.equal(breaker.tryAcquire(), true);
  const epoch = breaker.epoch;
  assert.equal(breaker.tryAcquire(), false);
  breaker.release(epoch);
  const snap = breaker.snapshot();
  assert.equal(snap.state, 'half_open');
  assert.equal(snap.trials_in_flight, 0);
  assert.equal(snap.consecutive_successes, 0);
  assert.equal(breaker.tryAcquire(), true);
});

test('release in closed is a no-op and never drives counts negative', () => {
  const { breaker } = make();
  breaker.tryAcquire();
  breaker.release();
  breaker.release();
  const snap = breaker.snapshot();
  assert.equal(snap.state, 'closed');
  assert.equal(snap.trials_in_flight, 0);
  assert.equal(snap.epoch, 0);
});

test('failure_on filters: kinds not listed count as success', () => {
  const { breaker } = make({ failure_on: ['connect_error'], failure_threshold: 2 });
  for (let i = 0; i < 10; i++) {
    run(breaker, '5xx');
    run(breaker, 'timeout');
  }
  assert.equal(breaker.state, 'closed');
  run(breaker, 'connect_error');
  run(breaker, '5xx'); // counts as success: resets the streak
  run(breaker, 'connect_error');
  assert.equal(breaker.state, 'closed');
  run(breaker, 'connect_error');
  assert.equal(breaker.state, 'open');
});

test('failure_on filters in half-open too: an unlisted kind is a successful trial', () => {
  const { breaker, clock } = make({ failure_on: ['5xx'], success_threshold: 1 });
  openIt(breaker);
  clock.t += 30_000;
  run(breaker, 'timeout');
  assert.equal(breaker.state, 'closed');
});

test('stale results (older epoch) are ignored: no trial slot taken, no outcome counted', () => {
  const { breaker, clock } = make({ failure_threshold: 1 });
  // a long request acquired while closed
  assert.equal(breaker.tryAcquire(), true);
  const oldEpoch = breaker.epoch;
  run(breaker, '5xx'); // another one opens the circuit
  assert.equal(breaker.state, 'open');
  clock.t += 30_000;
  assert.equal(breaker.tryAcquire(), true); // the trial
  breaker.onResult('5xx', oldEpoch); // the old request fails late
  assert.equal(breaker.state, 'half_open', 'stale failure does not reopen');
  breaker.onResult(null, oldEpoch);
  breaker.release(oldEpoch);
  assert.equal(breaker.snapshot().trials_in_flight, 1, 'stale result does not free the trial slot');
  assert.equal(breaker.tryAcquire(), false);
});

test('without an epoch, a late result while open is ignored', () => {
  const { breaker } = make({ failure_threshold: 1 });
  breaker.tryAcquire();
  run(breaker, '5xx');
  const openedAt = breaker.snapshot().opened_at;
  breaker.onResult('5xx');
  breaker.onResult(null);
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.snapshot().opened_at, openedAt);
});

test('timeout 0: the next tryAcquire after opening is a trial', () => {
  const { breaker } = make({ timeout: 0, failure_threshold: 1 });
  run(breaker, '5xx');
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.state, 'half_open');
});

test('the state getter does not move open → half_open by itself', () => {
  const { breaker, clock, changes } = make({ failure_threshold: 1 });
  run(breaker, '5xx');
  clock.t += 1e9;
  assert.equal(breaker.state, 'open');
  assert.equal(changes.length, 1);
});

test('classifyFailure', () => {
  assert.equal(classifyFailure(undefined, 'LOOM_ERR_UPSTREAM_CONNECT'), 'connect_error');
  assert.equal(classifyFailure(undefined, 'LOOM_ERR_UPSTREAM_CONNECT_TIMEOUT'), 'timeout');
  assert.equal(classifyFailure(undefined, 'LOOM_ERR_UPSTREAM_TIMEOUT'), 'timeout');
  assert.equal(classifyFailure(undefined, 'LOOM_ERR_UPSTREAM_RESET'), '5xx');
  assert.equal(classifyFailure(undefined, 'LOOM_ERR_UPSTREAM_PROTOCOL'), '5xx');
  assert.equal(classifyFailure(502, 'LOOM_ERR_CLIENT_ABORTED'), null, 'error code wins over status');
  assert.equal(classifyFailure(undefined, 'LOOM_ERR_NO_ENDPOINT'), null);
  assert.equal(classifyFailure(undefined, 'LOOM_ERR_INTERNAL'), null);
  assert.equal(classifyFailure(undefined, 'LOOM_ERR_BAD_REQUEST'), null);
  assert.equal(classifyFailure(500, undefined), '5xx');
  assert.equal(classifyFailure(503, undefined), '5xx');
  assert.equal(classifyFailure(599, undefined), '5xx');
  assert.equal(classifyFailure(499, undefined), null);
  assert.equal(classifyFailure(404, undefined), null);
  assert.equal(classifyFailure(200, undefined), null);
  assert.equal(classifyFailure(undefined, undefined), null);
});

// --- Property: a random interleaving of acquires, outcomes, releases and clock moves. ---

type Cmd =
  | { op: 'acquire' }
  | { op: 'finish'; pick: number; failure: FailureKind | null }
  | { op: 'release'; pick: number }
  | { op: 'advance'; ms: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Cmd>({ op: 'acquire' }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('finish' as const),
      pick: fc.nat(),
      failure: fc.constantFrom<FailureKind | null>(null, null, 'connect_error', 'timeout', '5xx'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 150 }) }) },
);

test('property: never more than half_open_requests concurrent trials; open admits nothing before timeout', () => {
  fc.assert(
    fc.property(
      fc.record({
        failure_threshold: fc.integer({ min: 1, max: 4 }),
        success_threshold: fc.integer({ min: 1, max: 4 }),
        timeout: fc.integer({ min: 0, max: 300 }),
        half_open_requests: fc.integer({ min: 1, max: 3 }),
        failure_on: fc.subarray<FailureKind>(['connect_error', 'timeout', '5xx']),
      }),
      fc.array(cmdArb, { maxLength: 200 }),
      (config, cmds) => {
        let t = 0;
        const b = new CircuitBreaker(config, () => t);
        // in-flight requests acquired, with the epoch they were acquired in
        const inflight: number[] = [];
        for (const cmd of cmds) {
          switch (cmd.op) {
            case 'acquire': {
              const before = b.snapshot();
              const ok = b.tryAcquire();
              if (before.state === 'open' && t - (before.opened_at as number) < config.timeout) {
                assert.equal(ok, false, 'open admitted a request before timeout');
              }
              if (ok) inflight.push(b.epoch);
              break;
            }
            case 'finish':
            case 'release': {
              if (inflight.length === 0) break;
              const [epoch] = inflight.splice(cmd.pick % inflight.length, 1);
              if (cmd.op === 'finish') b.onResult(cmd.failure, epoch);
              else b.release(epoch);
              break;
            }
            case 'advance':
              t += cmd.ms;
              break;
          }
          const s = b.snapshot();
          // the real number of trials in flight: acquired in the current half-open epoch
          const trials = s.state === 'half_open' ? inflight.filter((e) => e === s.epoch).length : 0;
          assert.ok(trials <= config.half_open_requests, `${trials} trials in flight`);
          assert.equal(s.trials_in_flight, trials, 'trial slots match the requests really in flight');
          if (s.state !== 'half_open') assert.equal(s.trials_in_flight, 0);
          if (s.state === 'closed') assert.ok(s.consecutive_failures < config.failure_threshold);
          if (s.state === 'half_open') assert.ok(s.consecutive_successes < config.success_threshold);
        }
      },
    ),
    { numRuns: 500, seed: 4004 },
  );
});
