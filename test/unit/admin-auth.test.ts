import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { AdminAuth, CACHE_LIMIT } from '../../src/admin/admin-auth.js';

const basic = (userPass: string): string => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

const users = {
  alice: bcrypt.hashSync('s3cret', 4),
  bob: bcrypt.hashSync('pa:ss:word', 4),
  carol: bcrypt.hashSync('htpasswd', 4).replace(/^\$2b\$/, '$2y$'),
};
const TOKEN = 'tok-0123456789abcdef';

const auth = (): AdminAuth => new AdminAuth({ realm: 'Gateway Admin', users, token: TOKEN });
const basicOnly = (): AdminAuth => new AdminAuth({ realm: 'Gateway Admin', users });

test('basic: right password passes, wrong password and unknown user fail', async () => {
  const a = auth();
  assert.equal(await a.check(basic('alice:s3cret')), true);
  assert.equal(await a.check(basic('alice:wrong')), false);
  assert.equal(await a.check(basic('alice:')), false);
  assert.equal(await a.check(basic('mallory:s3cret')), false);
  assert.equal(await a.check(basic('carol:htpasswd')), true, '$2y$ hashes (htpasswd -B) are accepted');
});

test('basic: user names that are Object.prototype properties are unknown users', async () => {
  const a = auth();
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    assert.equal(await a.check(basic(`${name}:x`)), false, name);
  }
});

test('basic: the password may contain colons; the user name ends at the first one', async () => {
  const a = auth();
  assert.equal(await a.check(basic('bob:pa:ss:word')), true);
  assert.equal(await a.check(basic('bob:pa:ss')), false);
  assert.equal(await a.check(basic('bob:pa')), false);
});

test('malformed headers resolve false and never throw', async () => {
  const a = auth();
  const bad = [
    undefined,
    '',
    ' ',
    'Basic',
    'Basic ',
    'Basic !!!not-base64!!!',
    'Basic YWxpY2U6czNjcmV0=====', // too much padding
    'Basic Y', // impossible base64 length
    basic('alice s3cret'), // no colon
    basic(''),
    `Basic ${Buffer.from('alice:s3cret').toString('base64')} extra`,
    `Basic\t${Buffer.from('alice:s3cret').toString('base64')}`,
    'Bearer',
    'Bearer ',
    `Bearer ${TOKEN} extra`,
    `Digest username="alice"`,
    `${TOKEN}`,
    `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x80]).toString('base64')}`, // invalid UTF-8
  ];
  for (const h of bad) assert.equal(await a.check(h), false, JSON.stringify(h));
});

test('wrong scheme: valid credentials under another scheme fail', async () => {
  const a = auth();
  assert.equal(await a.check(`Token ${TOKEN}`), false);
  assert.equal(await a.check(`Digest ${Buffer.from('alice:s3cret').toString('base64')}`), false);
  assert.equal(await a.check(`Bearer ${Buffer.from('alice:s3cret').toString('base64')}`), false);
  assert.equal(await a.check(basic(`x:${TOKEN}`)), false);
});

test('scheme names are case-insensitive; surrounding whitespace is tolerated', async () => {
  const a = auth();
  const enc = Buffer.from('alice:s3cret').toString('base64');
  assert.equal(await a.check(`basic ${enc}`), true);
  assert.equal(await a.check(`BASIC ${enc}`), true);
  assert.equal(await a.check(`BEARER ${TOKEN}`), true);
  assert.equal(await a.check(`bearer ${TOKEN}`), true);
  assert.equal(await a.check(`  Bearer   ${TOKEN}  `), true);
});

test('bearer: right token passes, wrong or truncated token fails', async () => {
  const a = auth();
  assert.equal(await a.check(`Bearer ${TOKEN}`), true);
  assert.equal(await a.check(`Bearer ${TOKEN}x`), false);
  assert.equal(await a.check(`Bearer ${TOKEN.slice(0, -1)}`), false);
  assert.equal(await a.check('Bearer x'), false);
});

test('bearer: without a configured token every bearer header fails', async () => {
  const a = basicOnly();
  assert.equal(await a.check(`Bearer ${TOKEN}`), false);
  assert.equal(await a.check('Bearer undefined'), false);
  assert.equal(await a.check('Bearer '), false);
  const empty = new AdminAuth({ realm: 'r', users, token: '' });
  assert.equal(await empty.check('Bearer '), false);
  assert.deepEqual(empty.challenges(), ['Basic realm="r"'], 'an empty token is no token');
});

test('token only: basic auth fails without users', async () => {
  const a = new AdminAuth({ realm: 'r', users: {}, token: TOKEN });
  assert.equal(await a.check(basic('alice:s3cret')), false);
  assert.equal(await a.check(`Bearer ${TOKEN}`), true);
});

test('cache: a repeated right header passes; a wrong password after a right one still fails', async () => {
  const a = auth();
  const right = basic('alice:s3cret');
  assert.equal(await a.check(right), true);
  assert.equal(await a.check(right), true);
  assert.equal(await a.check(basic('alice:wrong')), false);
  assert.equal(await a.check(basic('alice:s3cret ')), false);
  assert.equal(await a.check(right), true);
});

test('cache: a hit adds no bcrypt compare; failures are not cached', async () => {
  const a = basicOnly();
  const right = basic('alice:s3cret');
  assert.equal(a.bcryptCompares, 0);
  assert.equal(await a.check(right), true);
  assert.equal(a.bcryptCompares, 1, 'the first check of a header runs bcrypt');
  for (let i = 0; i < 10; i++) assert.equal(await a.check(right), true);
  assert.equal(a.bcryptCompares, 1, 'cached checks of the same header run no compare');
  // A wrong password is compared every time: failures are never remembered.
  assert.equal(await a.check(basic('alice:nope')), false);
  assert.equal(await a.check(basic('alice:nope')), false);
  assert.equal(a.bcryptCompares, 3);
  // The right header is still a hit after the failures.
  assert.equal(await a.check(right), true);
  assert.equal(a.bcryptCompares, 3);
});

test('cache: only Basic checks that reach a user cost a compare', async () => {
  const a = auth();
  assert.equal(await a.check(`Bearer ${TOKEN}`), true);
  assert.equal(await a.check('Bearer wrong'), false);
  assert.equal(await a.check('Basic !!!not-base64!!!'), false);
  assert.equal(await a.check(basic('no-colon')), false);
  assert.equal(await a.check(undefined), false);
  assert.equal(a.bcryptCompares, 0, 'bearer and malformed headers never run bcrypt');
  const tokenOnly = new AdminAuth({ realm: 'r', users: {}, token: TOKEN });
  assert.equal(await tokenOnly.check(basic('alice:s3cret')), false);
  assert.equal(tokenOnly.bcryptCompares, 0, 'without users Basic is refused before any compare');
});

test('cache: bounded at CACHE_LIMIT, least recently used dropped first, still correct when full', async () => {
  const a = basicOnly();
  // Trailing spaces make distinct header values that carry the same credentials.
  const header = (i: number): string => `${basic('alice:s3cret')}${' '.repeat(i)}`;
  const n = CACHE_LIMIT + 36;
  for (let i = 0; i < n; i++) assert.equal(await a.check(header(i)), true);
  assert.equal(a.bcryptCompares, n, 'every new header value is verified once');
  // The newest CACHE_LIMIT headers are cached: no compare.
  for (let i = n - CACHE_LIMIT; i < n; i++) assert.equal(await a.check(header(i)), true);
  assert.equal(a.bcryptCompares, n);
  // The older ones were evicted: each is verified again (and passes), so the cache holds no more than CACHE_LIMIT.
  for (let i = 0; i < n - CACHE_LIMIT; i++) assert.equal(await a.check(header(i)), true);
  assert.equal(a.bcryptCompares, n + (n - CACHE_LIMIT));
  assert.equal(await a.check(basic('alice:wrong')), false, 'a wrong password fails with a full cache');

  // LRU: with the cache full of 0..LIMIT-1, a hit on 0 refreshes it, so one new entry evicts 1, not 0.
  const b = basicOnly();
  for (let i = 0; i < CACHE_LIMIT; i++) assert.equal(await b.check(header(i)), true);
  assert.equal(await b.check(header(0)), true);
  assert.equal(await b.check(header(CACHE_LIMIT)), true);
  const before = b.bcryptCompares;
  assert.equal(await b.check(header(0)), true);
  assert.equal(b.bcryptCompares, before, 'the refreshed entry was kept');
  assert.equal(await b.check(header(1)), true);
  assert.equal(b.bcryptCompares, before + 1, 'the least recently used entry was evicted');
});

test('unknown users also cost exactly one bcrypt compare, like a known user with a wrong password', async () => {
  const a = basicOnly();
  assert.equal(await a.check(basic('nobody:pw')), false);
  assert.equal(a.bcryptCompares, 1, 'an unknown user runs one compare (against the dummy hash)');
  assert.equal(await a.check(basic('alice:bad')), false);
  assert.equal(a.bcryptCompares, 2, 'a known user with a wrong password runs one compare');
  for (const name of ['__proto__', 'constructor']) assert.equal(await a.check(basic(`${name}:x`)), false);
  assert.equal(a.bcryptCompares, 4, 'prototype-named users are unknown users and pay the same');
  // Unknown users are never cached either.
  assert.equal(await a.check(basic('nobody:pw')), false);
  assert.equal(a.bcryptCompares, 5);
});

test('challenges: one per configured scheme, realm quoted and escaped', () => {
  assert.deepEqual(auth().challenges(), ['Basic realm="Gateway Admin"', 'Bearer realm="Gateway Admin"']);
  assert.deepEqual(basicOnly().challenges(), ['Basic realm="Gateway Admin"']);
  assert.deepEqual(new AdminAuth({ realm: 'r', users: {}, token: TOKEN }).challenges(), ['Bearer realm="r"']);
  assert.deepEqual(new AdminAuth({ realm: 'r', users: {} }).challenges(), []);
  assert.deepEqual(new AdminAuth({ realm: 'a "b" c\\d', users }).challenges(), ['Basic realm="a \\"b\\" c\\\\d"']);
  assert.deepEqual(new AdminAuth({ realm: 'x\r\nSet-Cookie: y', users }).challenges(), ['Basic realm="xSet-Cookie: y"']);
});
