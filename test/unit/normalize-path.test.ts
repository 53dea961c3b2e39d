import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { normalizePath } from '../../src/router/normalize-path.js';

test('normalizePath: canonical paths are returned as the same string (fast path)', () => {
  for (const p of ['/', '/api', '/api/', '/api/users/42', '/static/app.min.js', '/a/.b/..c/...', '/~user/x-y_z']) {
    assert.equal(normalizePath(p), p);
  }
});

test('normalizePath: must start with /', () => {
  assert.equal(normalizePath(''), null);
  assert.equal(normalizePath('api'), null);
  assert.equal(normalizePath('*'), null);
  assert.equal(normalizePath('http://x/y'), null);
});

test('normalizePath: decodes unreserved escapes and upper-cases the others', () => {
  assert.equal(normalizePath('/%41%62%63'), '/Abc');
  assert.equal(normalizePath('/%7euser/%2D%5f%2e'), '/~user/-_.');
  assert.equal(normalizePath('/caf%c3%a9'), '/caf%C3%A9');
  assert.equal(normalizePath('/a%20b'), '/a%20b');
  assert.equal(normalizePath('/%3f%23%25'), '/%3F%23%25');
  assert.equal(normalizePath('/%0a'), '/%0A', 'encoded controls other than %00 stay encoded');
});

test('normalizePath: rejects encoded slash, encoded backslash, raw backslash, %00', () => {
  for (const p of ['/a%2Fb', '/a%2fb', '/a%5Cb', '/a%5cb', '/a\\b', '/\\', '/a%00', '/%00/x']) {
    assert.equal(normalizePath(p), null, p);
  }
});

test('normalizePath: rejects malformed escapes and raw control characters', () => {
  for (const p of ['/%zz', '/%', '/a%', '/a%4', '/%4g', '/%g4', '/a\x00b', '/a\nb', '/a\rb', '/a\tb', '/a\x7fb', '/%2e%zz']) {
    assert.equal(normalizePath(p), null, JSON.stringify(p));
  }
});

test('normalizePath: merges repeated slashes, keeps a trailing slash', () => {
  assert.equal(normalizePath('//'), '/');
  assert.equal(normalizePath('//api'), '/api');
  assert.equal(normalizePath('/api//users'), '/api/users');
  assert.equal(normalizePath('/api///users//'), '/api/users/');
});

test('normalizePath: removes dot segments (RFC 3986 5.2.4), never above root', () => {
  const cases: [string, string][] = [
    ['/.', '/'],
    ['/..', '/'],
    ['/./', '/'],
    ['/../', '/'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/a/b/.', '/a/b/'],
    ['/a/b/../', '/a/'],
    ['/api/../../x', '/x'],
    ['/../../../etc/passwd', '/etc/passwd'],
    ['/a/b/c/./../../g', '/a/g'],
    ['/mid/content=5/../6', '/mid/6'],
  ];
  for (const [input, want] of cases) assert.equal(normalizePath(input), want, input);
});

test('normalizePath: encoded dots count as dot segments after decoding', () => {
  assert.equal(normalizePath('/api/%2e%2e/admin'), '/admin');
  assert.equal(normalizePath('/api/%2E%2E/admin'), '/admin');
  assert.equal(normalizePath('/api/.%2e/admin'), '/admin');
  assert.equal(normalizePath('/api/%2e/admin'), '/api/admin');
  assert.equal(normalizePath('/api/%2e%2e%2e'), '/api/...');
});

// --- properties -------------------------------------------------------------------------

const fragment = fc.constantFrom(
  '/', '/', '/', '.', '..', '%2e', '%2E', '%2e%2e', 'a', 'B', '~', '-', '_', '%41', '%7e', '%7E', '%20', '%c3%a9',
  '%25', '%zz', '%', '%2f', '%5C', '\\', '%00', '\x01', '\x7f', 'é', 'x.y', ';', '=', '{', '*',
);
const rawPath = fc.array(fragment, { maxLength: 16 }).map((parts) => '/' + parts.join(''));

test('property: a result always starts with / and has no dot segment and no //', () => {
  fc.assert(
    fc.property(rawPath, (p) => {
      const n = normalizePath(p);
      if (n === null) return;
      assert.ok(n.startsWith('/'), n);
      assert.ok(!n.includes('//'), n);
      for (const seg of n.slice(1).split('/')) {
        assert.ok(seg !== '.' && seg !== '..', `${JSON.stringify(p)} → ${n}`);
      }
      assert.ok(!/%(2[eEfF]|5[cC]|00)/.test(n), n);
      for (const m of n.matchAll(/%(..)/g)) assert.equal(m[1], m[1].toUpperCase(), `hex not upper-cased: ${n}`);
    }),
    { numRuns: 5000 },
  );
});

test('property: normalizePath is idempotent', () => {
  fc.assert(
    fc.property(rawPath, (p) => {
      const n = normalizePath(p);
      if (n === null) return;
      assert.equal(normalizePath(n), n, `${JSON.stringify(p)} → ${n}`);
    }),
    { numRuns: 5000 },
  );
});

test('property: agrees with a reference implementation', () => {
  // Reference: decode unreserved escapes, then RFC 3986 remove_dot_segments over a
  // split, with empty segments dropped except the trailing one.
  const reference = (p: string): string | null => {
    if (/[\x00-\x1f\x7f\\]/.test(p)) return null;
    if (/%(?![0-9a-fA-F]{2})/.test(p)) return null;
    if (/%(2f|5c|00)/i.test(p)) return null;
    const decoded = p.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => {
      const c = String.fromCharCode(parseInt(h, 16));
      return /[A-Za-z0-9\-._~]/.test(c) ? c : '%' + h.toUpperCase();
    });
    const segs = decoded.slice(1).split('/');
    const out: string[] = [];
    segs.forEach((s, i) => {
      const last = i === segs.length - 1;
      if (s === '..') out.pop();
      if (s === '..' || s === '.' || s === '') {
        if (last) out.push('');
      } else out.push(s);
    });
    return '/' + out.join('/');
  };
  fc.assert(
    fc.property(rawPath, (p) => {
      assert.equal(normalizePath(p), reference(p), JSON.stringify(p));
    }),
    { numRuns: 5000 },
  );
});
