import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDuration, parseSize } from '../../src/config/units.js';

test('parseDuration: Go duration syntax into milliseconds', () => {
  const cases: [string, number][] = [
    ['100ms', 100],
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['500us', 0.5],
    ['500µs', 0.5],
    ['250ns', 0.00025],
    ['2m3s4ms', 123_004],
    ['.5s', 500],
    ['1.s', 1_000],
    ['0', 0],
    ['0s', 0],
    ['-2s', -2_000],
    ['+3m', 180_000],
  ];
  for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, input);
});

test('parseDuration: rejects bare numbers, unknown units and junk', () => {
  for (const input of ['', '30', '1.5', 's', '.s', '5x', '1 s', '1S', '1d', '-', '1h 30m', 'ms', '1e3s', ' 1s']) {
    assert.equal(parseDuration(input), undefined, JSON.stringify(input));
  }
});

test('parseSize: base-1024 units, case-insensitive, KiB spellings', () => {
  const cases: [string, number][] = [
    ['512B', 512],
    ['64KB', 65_536],
    ['10MB', 10_485_760],
    ['1GB', 1_073_741_824],
    ['1KiB', 1024],
    ['2MiB', 2 * 1024 ** 2],
    ['1GiB', 1024 ** 3],
    ['1TB', 1024 ** 4],
    ['64kb', 65_536],
    ['1.5KB', 1536],
    ['10 MB', 10_485_760],
  ];
  for (const [input, bytes] of cases) assert.equal(parseSize(input), bytes, input);
});

test('parseSize: rejects missing units and junk', () => {
  for (const input of ['', '512', 'KB', '1PB', '-1KB', '1.KB', 'ten MB', '1K']) {
    assert.equal(parseSize(input), undefined, JSON.stringify(input));
  }
});

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

test('parseDuration: n<unit> is n times the unit, and concatenation adds (property)', () => {
  const part = fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(...Object.keys(UNIT_MS)));
  fc.assert(
    fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (parts) => {
      const text = parts.map(([n, u]) => `${n}${u}`).join('');
      const expected = parts.reduce((sum, [n, u]) => sum + n * UNIT_MS[u], 0);
      const got = parseDuration(text);
      assert.ok(got !== undefined, text);
      assert.ok(Math.abs(got - expected) <= 1e-6 * Math.max(1, expected), `${text}: ${got} vs ${expected}`);
    }),
  );
});

test('parseDuration / parseSize never throw (property)', () => {
  fc.assert(
    fc.property(fc.string(), (s) => {
      const d = parseDuration(s);
      const z = parseSize(s);
      assert.ok(d === undefined || Number.isFinite(d));
      assert.ok(z === undefined || Number.isSafeInteger(z));
    }),
  );
});

test('parseSize: n<unit> is n times 1024^k (property)', () => {
  const units: [string, number][] = [['B', 1], ['KB', 1024], ['KiB', 1024], ['MB', 1024 ** 2], ['GiB', 1024 ** 3]];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...units), (n, [u, k]) => {
      assert.equal(parseSize(`${n}${u}`), n * k);
    }),
  );
});
