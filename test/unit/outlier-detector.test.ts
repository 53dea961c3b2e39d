// OutlierDetector with a fake clock and timers: time moves only when a test says so.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutlierDetectionConfig } from '../../src/config/types.js';
import { createEndpoint, type UpstreamEndpoint } from '../../src/upstream/endpoint.js';
import { OutlierDetector, resetOutlierState } from '../../src/upstream/health/outlier-detector.js';

class FakeClock {
  t = 1_000;
  private seq = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];

  readonly now = (): number => this.t;

  readonly setTimer = (fn: () => void, ms: number): (() => void) => {
    const timer = { at: this.t + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  };

  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing due timers in order (each at its own time). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      let next: (typeof this.timers)[number] | undefined;
      for (const x of this.timers) if (x.at <= target && (next === undefined || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      if (next === undefined) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = target;
  }
}

const BASE = 30_000;

function config(overrides: Partial<OutlierDetectionConfig> = {}): OutlierDetectionConfig {
  return { consecutive_failures: 3, base_ejection_time: BASE, max_ejection_time: 300_000, max_ejection_percent: 100, ...overrides };
}

function setup(n = 4, overrides: Partial<OutlierDetectionConfig> = {}) {
  const clock = new FakeClock();
  const eps = Array.from({ length: n }, (_, i) => createEndpoint(`10.0.0.${i + 1}:8080`, i));
  const log: string[] = [];
  const detector = new OutlierDetector({
    upstream: 'api',
    endpoints: eps,
    config: config(overrides),
    now: clock.now,
    setTimer: clock.setTimer,
    onChange: (e, ejected) => log.push(`${e.index}:${ejected ? 'out' : 'in'}`),
  });
  return { clock, eps, log, detector };
}

function fail(d: OutlierDetector, e: UpstreamEndpoint, times: number): boolean {
  let ejected = false;
  for (let i = 0; i < times; i++) ejected = d.record(e, true) || ejected;
  return ejected;
}

describe('OutlierDetector', () => {
  it('ejects an endpoint after consecutive_failures failures, for base_ejection_time', () => {
    const { clock, eps, log, detector } = setup();
    assert.equal(fail(detector, eps[0], 2), false);
    assert.equal(eps[0].available, true);
    assert.equal(detector.record(eps[0], true), true);
    assert.equal(eps[0].available, false);
    assert.equal(eps[0].ejectedUntil, clock.t + BASE);
    assert.equal(eps[0].ejections, 1);
    assert.deepEqual(log, ['0:out']);
    assert.equal(eps[1].available, true);
    assert.equal(detector.ejectedCount, 1);
    assert.equal(detector.ejectionsTotal, 1);
  });

  it('a success resets the streak', () => {
    const { eps, detector } = setup();
    fail(detector, eps[0], 2);
    detector.record(eps[0], false);
    assert.equal(fail(detector, eps[0], 2), false);
    assert.equal(eps[0].available, true);
    assert.equal(detector.record(eps[0], true), true);
  });

  it('returns the endpoint when the ejection time has passed, with a fresh streak', () => {
    const { clock, eps, log, detector } = setup();
    fail(detector, eps[0], 3);
    clock.advance(BASE - 1);
    assert.equal(eps[0].available, false);
    clock.advance(1);
    assert.equal(eps[0].available, true);
    assert.equal(eps[0].ejectedUntil, 0);
    assert.deepEqual(log, ['0:out', '0:in']);
    assert.equal(clock.pending, 0);
    assert.equal(fail(detector, eps[0], 2), false, 'the streak restarted at 0');
  });

  it('ignores outcomes recorded while ejected', () => {
    const { clock, eps, detector } = setup();
    fail(detector, eps[0], 3);
    assert.equal(fail(detector, eps[0], 10), false);
    assert.equal(eps[0].ejections, 1);
    clock.advance(BASE);
    assert.equal(eps[0].available, true);
  });

  it('makes repeated ejections longer: base × k', () => {
    const { clock, eps, detector } = setup();
    const durations: number[] = [];
    for (let k = 1; k <= 3; k++) {
      fail(detector, eps[0], 3);
      durations.push(eps[0].ejectedUntil - clock.t);
      assert.equal(eps[0].ejections, k);
      clock.advance(eps[0].ejectedUntil - clock.t);
      assert.equal(eps[0].available, true);
    }
    assert.deepEqual(durations, [BASE, 2 * BASE, 3 * BASE]);
  });

  it('caps one ejection at max_ejection_time', () => {
    const { clock, eps, detector } = setup(4, { max_ejection_time: 70_000 });
    const durations: number[] = [];
    for (let k = 1; k <= 5; k++) {
      fail(detector, eps[0], 3);
      durations.push(eps[0].ejectedUntil - clock.t);
      clock.advance(eps[0].ejectedUntil - clock.t);
    }
    assert.deepEqual(durations, [30_000, 60_000, 70_000, 70_000, 70_000]);
    assert.equal(eps[0].ejections, 5);
  });

  it('decays the multiplier by one per base_ejection_time spent un-ejected', () => {
    const { clock, eps, detector } = setup();
    for (let k = 1; k <= 3; k++) {
      fail(detector, eps[0], 3);
      clock.advance(eps[0].ejectedUntil - clock.t);
    }
    assert.equal(eps[0].ejections, 3);
    // Back for 2 full base periods (and a bit): 3 - 2 = 1, so this ejection is the 2nd: 2 × base.
    clock.advance(2 * BASE + 5_000);
    fail(detector, eps[0], 3);
    assert.equal(eps[0].ejections, 2);
    assert.equal(eps[0].ejectedUntil - clock.t, 2 * BASE);
    clock.advance(2 * BASE);
    // Less than one base period back: no decay.
    clock.advance(BASE - 1);
    fail(detector, eps[0], 3);
    assert.equal(eps[0].ejections, 3);
    assert.equal(eps[0].ejectedUntil - clock.t, 3 * BASE);
    clock.advance(3 * BASE);
    // A long healthy period decays to 0: the next ejection is a first one again.
    clock.advance(100 * BASE);
    fail(detector, eps[0], 3);
    assert.equal(eps[0].ejections, 1);
    assert.equal(eps[0].ejectedUntil - clock.t, BASE);
  });

  it('never ejects more than max_ejection_percent of the endpoints', () => {
    const { clock, eps, detector } = setup(4, { max_ejection_percent: 50 });
    assert.equal(detector.maxEjected, 2);
    assert.equal(fail(detector, eps[0], 3), true);
    assert.equal(fail(detector, eps[1], 3), true);
    assert.equal(fail(detector, eps[2], 3), false);
    assert.equal(eps[2].available, true);
    assert.equal(eps[2].ejections, 0);
    assert.equal(detector.ejectionsSkipped, 1);
    // The refused attempt reset the streak; once there is room a new streak ejects.
    clock.advance(BASE);
    assert.equal(detector.ejectedCount, 0);
    assert.equal(fail(detector, eps[2], 2), false);
    assert.equal(detector.record(eps[2], true), true);
  });

  it('with 2 endpoints and 50% one may be ejected; with 1 endpoint and 50% none; with 100% all', () => {
    const two = setup(2, { max_ejection_percent: 50 });
    assert.equal(fail(two.detector, two.eps[0], 3), true);
    assert.equal(fail(two.detector, two.eps[1], 3), false);
    assert.deepEqual(two.eps.map((e) => e.available), [false, true]);

    const one = setup(1, { max_ejection_percent: 50 });
    assert.equal(fail(one.detector, one.eps[0], 3), false);
    assert.equal(one.eps[0].available, true);

    const all = setup(1, { max_ejection_percent: 100 });
    assert.equal(fail(all.detector, all.eps[0], 3), true);
    assert.equal(all.eps[0].available, false);

    const none = setup(4, { max_ejection_percent: 0 });
    assert.equal(fail(none.detector, none.eps[0], 3), false);
  });

  it('keeps availability from its other sources', () => {
    const { clock, eps, detector } = setup();
    eps[0].healthy = false; // active checks said so
    fail(detector, eps[0], 3);
    clock.advance(BASE);
    assert.equal(eps[0].ejectedUntil, 0);
    assert.equal(eps[0].available, false, 'still unhealthy');
  });

  it('ignores endpoints of another upstream', () => {
    const { eps, detector } = setup(2);
    const stranger = createEndpoint('10.9.9.9:80', 0);
    assert.equal(fail(detector, stranger, 10), false);
    assert.equal(stranger.available, true);
    assert.equal(eps[0].available, true);
  });

  it('close() cancels timers; a successor adopts ejections in progress', () => {
    const { clock, eps, detector } = setup();
    fail(detector, eps[0], 3);
    fail(detector, eps[1], 3);
    clock.advance(10_000);
    detector.close();
    assert.equal(clock.pending, 0);
    assert.equal(detector.record(eps[2], true) || fail(detector, eps[2], 5), false, 'closed: records ignored');
    assert.equal(eps[0].available, false, 'state kept for a successor');

    const log: string[] = [];
    const successor = new OutlierDetector({
      endpoints: eps,
      config: config(),
      now: clock.now,
      setTimer: clock.setTimer,
      onChange: (e, ejected) => log.push(`${e.index}:${ejected ? 'out' : 'in'}`),
    });
    assert.equal(clock.pending, 2);
    clock.advance(BASE - 10_000);
    assert.deepEqual(eps.map((e) => e.available), [true, true, true, true]);
    assert.deepEqual(log, ['0:in', '1:in']);
    successor.close();
  });

  it('a successor returns endpoints whose ejection already ended at once', () => {
    const { clock, eps, detector } = setup(2);
    fail(detector, eps[0], 3);
    detector.close();
    clock.advance(BASE + 1);
    assert.equal(eps[0].available, false);
    const successor = new OutlierDetector({ endpoints: eps, config: config(), now: clock.now, setTimer: clock.setTimer });
    assert.equal(eps[0].available, true);
    assert.equal(clock.pending, 0);
    successor.close();
  });

  it('resetOutlierState ends ejections and forgets multipliers', () => {
    const { eps, detector } = setup(2);
    fail(detector, eps[0], 3);
    detector.close();
    resetOutlierState(eps);
    assert.equal(eps[0].available, true);
    assert.equal(eps[0].ejectedUntil, 0);
    assert.equal(eps[0].ejections, 0);
  });

  it('works with the default clock and unref\'d timers', () => {
    const eps = [createEndpoint('10.0.0.1:80', 0), createEndpoint('10.0.0.2:80', 1)];
    const detector = new OutlierDetector({ endpoints: eps, config: config({ consecutive_failures: 1 }) });
    assert.equal(detector.record(eps[0], true), true);
    assert.ok(eps[0].ejectedUntil > Date.now());
    detector.close(); // the test process still exits even without this (timer unref'd)
  });
});
