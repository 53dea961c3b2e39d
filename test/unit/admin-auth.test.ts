import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { AdminAuth } from '../../src/admin/admin-auth.js';

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

test('cache: hits skip bcrypt, failures are not cached', async () => {
  // Cost 10 makes one compare clearly slower than a cache lookup.
  const a = new AdminAuth({ realm: 'r', users: { slow: bcrypt.hashSync('pw', 10) } });
  const right = basic('slow:pw');
  assert.equal(await a.check(right), true);
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) assert.equal(await a.check(right), true);
  const cached = performance.now() - t0;
  const t1 = performance.now();
  assert.equal(await a.check(basic('slow:nope')), false);
  const uncached = performance.now() - t1;
  assert.ok(cached < uncached, `50 cached checks took ${cached} ms, one bcrypt compare ${uncached} ms`);
  // the failure was not remembered: it is still false and the right header still true
  assert.equal(await a.check(basic('slow:nope')), false);
  assert.equal(await a.check(right), true);
});

test('cache: bounded — many distinct successful headers still verify correctly', async () => {
  const a = basicOnly();
  // Padding variants are distinct header values that decode to the same credentials.
  const headers = Array.from({ length: 100 }, (_, i) => `Basic ${Buffer.from('alice:s3cret').toString('base64')}${' '.repeat(i)}`);
  for (const h of headers) assert.equal(await a.check(h), true);
  for (const h of headers) assert.equal(await a.check(h), true);
  assert.equal(await a.check(basic('alice:wrong')), false);
});

test('unknown users also pay for a bcrypt compare', async () => {
  const a = new AdminAuth({ realm: 'r', users: { slow: bcrypt.hashSync('pw', 10) } });
  const t0 = performance.now();
  assert.equal(await a.check(basic('nobody:pw')), false);
  const unknown = performance.now() - t0;
  const t1 = performance.now();
  assert.equal(await a.check(basic('slow:bad')), false);
  const known = performance.now() - t1;
  // Same cost (10) for both; allow generous noise, but an unknown user must not be instant.
  assert.ok(unknown > known / 4, `unknown user ${unknown} ms vs known user ${known} ms`);
});

test('challenges: one per configured scheme, realm quoted and escaped', () => {
  assert.deepEqual(auth().challenges(), ['Basic realm="Gateway Admin"', 'Bearer realm="Gateway Admin"']);
  assert.deepEqual(basicOnly().challenges(), ['Basic realm="Gateway Admin"']);
  assert.deepEqual(new AdminAuth({ realm: 'r', users: {}, token: TOKEN }).challenges(), ['Bearer realm="r"']);
  assert.deepEqual(new AdminAuth({ realm: 'r', users: {} }).challenges(), []);
  assert.deepEqual(new AdminAuth({ realm: 'a "b" c\\d', users }).challenges(), ['Basic realm="a \\"b\\" c\\\\d"']);
  assert.deepEqual(new AdminAuth({ realm: 'x\r\nSet-Cookie: y', users }).challenges(), ['Basic realm="xSet-Cookie: y"']);
});
