// Secret formats and digests.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { apiKeyDigest, newApiKeySecret, newId, newRefreshToken, safeEqual, sha256Hex } from '../../src/auth/secrets.ts';

test('an API key secret is 72 lowercase hex characters (36 random bytes), different every time', () => {
  const secrets = new Set(Array.from({ length: 50 }, newApiKeySecret));
  assert.equal(secrets.size, 50);
  for (const s of secrets) assert.match(s, /^[0-9a-f]{72}$/);
});

test('apiKeyDigest is sha256 over the secret’s bytes, as hex', () => {
  const secret = newApiKeySecret();
  const expected = createHash('sha256').update(Buffer.from(secret, 'hex')).digest('hex');
  assert.equal(apiKeyDigest(secret), expected);
  assert.match(expected, /^[0-9a-f]{64}$/);
  assert.notEqual(apiKeyDigest(secret), sha256Hex(secret), 'the bytes, not the hex text, are hashed');
  assert.equal(apiKeyDigest(secret.toUpperCase()), expected, 'upper-case hex names the same bytes');
});

test('apiKeyDigest rejects anything that cannot be a key', () => {
  const secret = newApiKeySecret();
  for (const bad of [
    '',
    secret.slice(0, 71),
    `${secret}0`,
    `${secret.slice(0, 71)}g`,
    `${secret.slice(0, 70)} 0`,
    `${secret.slice(0, 71)}\n`,
    'z'.repeat(72),
    secret.slice(0, 64), // a sha256 hex is not a key
  ]) {
    assert.equal(apiKeyDigest(bad), null, JSON.stringify(bad));
  }
});

test('refresh tokens are 32 random bytes, base64url', () => {
  const a = newRefreshToken();
  const b = newRefreshToken();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(a, 'base64url').length, 32);
});

test('sha256Hex', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('safeEqual compares whole strings', () => {
  assert.equal(safeEqual('abc', 'abc'), true);
  assert.equal(safeEqual('', ''), true);
  assert.equal(safeEqual('abc', 'abd'), false);
  assert.equal(safeEqual('abc', 'ab'), false);
  assert.equal(safeEqual('ab', 'abc'), false);
  assert.equal(safeEqual('é', 'e\u0301'), false);
  const digest = sha256Hex('x');
  assert.equal(safeEqual(digest, sha256Hex('x')), true);
  assert.equal(safeEqual(digest, sha256Hex('y')), false);
});

test('ids are UUIDs', () => {
  assert.match(newId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(newId(), newId());
});
