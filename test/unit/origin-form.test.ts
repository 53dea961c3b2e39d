import { test } from 'node:test';
import assert from 'node:assert/strict';
import { originForm, targetAuthority } from '../../src/proxy/handle-request.js';

test('origin-form targets pass unchanged; absolute-form is reduced to path and query', () => {
  assert.equal(originForm('/a/b?x=1'), '/a/b?x=1');
  assert.equal(originForm('http://example.com/a/b?x=1'), '/a/b?x=1');
  assert.equal(originForm('HTTP://example.com:8080/a'), '/a');
  assert.equal(originForm('http://example.com'), '/');
  assert.equal(originForm('http://example.com?x=1'), '/?x=1');
  assert.equal(originForm('*'), '*');
  assert.equal(originForm('ftp://x/y'), 'ftp://x/y');
});

test('the authority of an absolute-form target', () => {
  assert.equal(targetAuthority('/a'), undefined);
  assert.equal(targetAuthority('http://admin.example.com/x'), 'admin.example.com');
  assert.equal(targetAuthority('http://u:p@a.com:8080?x'), 'a.com:8080');
  assert.equal(targetAuthority('*'), undefined);
});
