// JWT access tokens: EdDSA signing, verification with explicit times, rotation, JWKS.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignJWT, importJWK, jwtVerify, type JWK } from 'jose';
import { generateSigningKey, KeyRing, peekKid } from '../../src/auth/jwt.ts';
import { InvalidTokenError, TokenExpiredError } from '../../src/core/errors.ts';
import type { SigningKey } from '../../src/core/model.ts';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const MAX_TTL = 15 * MIN;
const ISSUER = 'gatehouse-test';

async function ringWith(keys: SigningKey[], now = T0, issuer = ISSUER): Promise<KeyRing> {
  return KeyRing.load(keys, now, MAX_TTL, issuer);
}

/** Flips one character of the signature part. */
function tamperSignature(token: string): string {
  const i = token.lastIndexOf('.') + 5;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

function tamperPayload(token: string, change: (claims: Record<string, unknown>) => void): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(claims);
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

describe('KeyRing', () => {
  test('signs and verifies an access token with the claims it was given', async () => {
    const key = await generateSigningKey(T0);
    const ring = await ringWith([key]);
    assert.equal(ring.signingKid, key.kid);
    const token = await ring.sign({ type: 'access', sid: 'session-1' }, 'principal-1', T0, 900);
    assert.equal(peekKid(token), key.kid);
    const claims = await ring.verify(token, T0 + 1000, 'access');
    assert.equal(claims.sub, 'principal-1');
    assert.equal(claims.sid, 'session-1');
    assert.equal(claims.type, 'access');
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.iat, T0 / 1000);
    assert.equal(claims.exp, T0 / 1000 + 900);
    assert.equal(typeof claims.jti, 'string');
    const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(header, { alg: 'EdDSA', kid: key.kid, typ: 'JWT' });
  });

  test('an outside verifier with only the published key (jose, the JWKS entry) accepts the token; claims cannot override registered ones', async () => {
    const key = await generateSigningKey(T0);
    const ring = await ringWith([key]);
    const token = await ring.sign({ type: 'access', sub: 'forged', exp: 1, iss: 'elsewhere' }, 'principal-1', T0, 900);
    const publicKey = await importJWK(ring.jwks().keys[0] as JWK, 'EdDSA');
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, { issuer: ISSUER, currentDate: new Date(T0 + 1000) });
    assert.deepEqual(protectedHeader, { alg: 'EdDSA', kid: key.kid, typ: 'JWT' });
    assert.equal(payload.sub, 'principal-1');
    assert.equal(payload.exp, T0 / 1000 + 900);
    assert.equal(payload.iss, ISSUER);
    const [header, body] = token.split('.') as [string, string];
    await assert.rejects(jwtVerify(`${header}.${body}.${'A'.repeat(86)}`, publicKey), /signature/i, 'a wrong signature is refused');
  });

  test('expiry is judged at the time given: valid until exp, then TokenExpiredError', async () => {
    const ring = await ringWith([await generateSigningKey(T0)]);
    const token = await ring.sign({ type: 'access' }, 'p', T0, 900);
    await ring.verify(token, T0 + 899_999, 'access');
    await assert.rejects(ring.verify(token, T0 + 900_000, 'access'), TokenExpiredError);
    await assert.rejects(ring.verify(token, T0 + 10 * 86_400_000, 'access'), TokenExpiredError);
  });

  test('a token from another issuer is invalid', async () => {
    const key = await generateSigningKey(T0);
    const other = await ringWith([key], T0, 'someone-else');
    const token = await other.sign({ type: 'access' }, 'p', T0, 900);
    await assert.rejects((await ringWith([key])).verify(token, T0, 'access'), InvalidTokenError);
  });

  test('a token of another type is invalid', async () => {
    const ring = await ringWith([await generateSigningKey(T0)]);
    const refresh = await ring.sign({ type: 'refresh' }, 'p', T0, 900);
    await assert.rejects(ring.verify(refresh, T0, 'access'), InvalidTokenError);
    const untyped = await ring.sign({}, 'p', T0, 900);
    await assert.rejects(ring.verify(untyped, T0, 'access'), InvalidTokenError);
  });

  test('a token naming an unknown kid, or none, is invalid', async () => {
    const ours = await ringWith([await generateSigningKey(T0)]);
    const theirs = await ringWith([await generateSigningKey(T0)]);
    const token = await theirs.sign({ type: 'access' }, 'p', T0, 900);
    await assert.rejects(ours.verify(token, T0, 'access'), InvalidTokenError);

    // signed by our key, but the header names no kid
    const key = await generateSigningKey(T0);
    const ring = await ringWith([key]);
    const noKid = await new SignJWT({ type: 'access' })
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('p')
      .setIssuer(ISSUER)
      .setIssuedAt(T0 / 1000)
      .setExpirationTime(T0 / 1000 + 900)
      .sign(await importJWK(key.privateJwk, 'EdDSA'));
    await assert.rejects(ring.verify(noKid, T0, 'access'), InvalidTokenError);
  });

  test('a token without an expiry is invalid even when well signed', async () => {
    const key = await generateSigningKey(T0);
    const ring = await ringWith([key]);
    const forever = await new SignJWT({ type: 'access' })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
      .setSubject('p')
      .setIssuer(ISSUER)
      .setIssuedAt(T0 / 1000)
      .sign(await importJWK(key.privateJwk, 'EdDSA'));
    await assert.rejects(ring.verify(forever, T0, 'access'), InvalidTokenError);
  });

  test('a tampered signature or payload is invalid; garbage is invalid', async () => {
    const ring = await ringWith([await generateSigningKey(T0)]);
    const token = await ring.sign({ type: 'access' }, 'p', T0, 900);
    await assert.rejects(ring.verify(tamperSignature(token), T0, 'access'), InvalidTokenError);
    await assert.rejects(ring.verify(tamperPayload(token, (c) => (c.sub = 'admin')), T0, 'access'), InvalidTokenError);
    await assert.rejects(ring.verify(tamperPayload(token, (c) => (c.exp = 9_999_999_999)), T0, 'access'), InvalidTokenError);
    for (const garbage of ['', 'abc', 'a.b.c', `${token}.extra`]) {
      await assert.rejects(ring.verify(garbage, T0, 'access'), InvalidTokenError, garbage);
    }
    // alg "none" is refused
    const [, payload] = token.split('.') as [string, string];
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    await assert.rejects(ring.verify(none, T0, 'access'), InvalidTokenError);
  });

  test('rotation: a retired key verifies until retiredAt + max TTL, then not', async () => {
    const old = await generateSigningKey(T0);
    const ringBefore = await ringWith([old]);
    // a long-lived token (ttl beyond the max) shows that the key, not the token, stops verifying
    const token = await ringBefore.sign({ type: 'access' }, 'p', T0, 3600);

    const retiredAt = T0 + 10 * MIN;
    const fresh = await generateSigningKey(retiredAt);
    const keys = [{ ...old, retiredAt }, fresh];

    const during = await ringWith(keys, retiredAt + MAX_TTL - 1);
    assert.equal(during.signingKid, fresh.kid, 'the new key signs');
    assert.ok(during.hasKid(old.kid));
    await during.verify(token, retiredAt + MAX_TTL - 1, 'access');
    // the same ring, asked later, refuses the old key even though it is still loaded
    await assert.rejects(during.verify(token, retiredAt + MAX_TTL, 'access'), InvalidTokenError);
    assert.equal(during.staleAt, retiredAt + MAX_TTL);

    const after = await ringWith(keys, retiredAt + MAX_TTL);
    assert.equal(after.hasKid(old.kid), false);
    assert.equal(after.staleAt, null);
    await assert.rejects(after.verify(token, retiredAt + MAX_TTL, 'access'), InvalidTokenError);
    const newToken = await after.sign({ type: 'access' }, 'p', retiredAt + MAX_TTL, 900);
    assert.equal(peekKid(newToken), fresh.kid);
    await after.verify(newToken, retiredAt + MAX_TTL, 'access');
  });

  test('with several unretired keys the newest signs; with none, sign fails', async () => {
    const a = await generateSigningKey(T0);
    const b = await generateSigningKey(T0 + 1);
    const ring = await ringWith([b, a]);
    assert.equal(ring.signingKid, b.kid);
    assert.equal(ring.signingKeyCreatedAt, T0 + 1);
    const onlyRetired = await ringWith([{ ...a, retiredAt: T0 }], T0 + 1);
    assert.equal(onlyRetired.signingKid, null);
    await assert.rejects(onlyRetired.sign({ type: 'access' }, 'p', T0, 900), /no signing key/);
  });

  test('jwks lists the verifying keys, public parts only', async () => {
    const gone = await generateSigningKey(T0);
    const retiring = await generateSigningKey(T0 + MIN);
    const current = await generateSigningKey(T0 + 20 * MIN);
    assert.equal(typeof current.privateJwk.d, 'string', 'the private JWK has d');
    const now = T0 + 20 * MIN;
    const ring = await ringWith(
      [
        { ...gone, retiredAt: T0 + MIN }, // stopped verifying at T0 + 16 min
        { ...retiring, retiredAt: T0 + 20 * MIN },
        // a damaged record whose public JWK carries private material must not leak it
        { ...current, publicJwk: { ...current.publicJwk, d: current.privateJwk.d } },
      ],
      now,
    );
    const { keys } = ring.jwks();
    assert.deepEqual(
      keys.map((k) => k.kid),
      [retiring.kid, current.kid],
    );
    for (const k of keys) {
      assert.equal(k.d, undefined);
      assert.equal(k.kty, 'OKP');
      assert.equal(k.crv, 'Ed25519');
      assert.equal(k.alg, 'EdDSA');
      assert.equal(k.use, 'sig');
      assert.equal(typeof k.x, 'string');
    }
    assert.deepEqual(
      ring.jwks(T0 + 35 * MIN).keys.map((k) => k.kid),
      [current.kid],
      'asked at a later time, the retired key is left out',
    );
  });

  test('peekKid reads the header without verifying, and copes with garbage', async () => {
    assert.equal(peekKid(''), null);
    assert.equal(peekKid('nodot'), null);
    assert.equal(peekKid('!!!.x.y'), null);
    assert.equal(peekKid(`${Buffer.from('{"alg":"EdDSA"}').toString('base64url')}.x.y`), null);
    assert.equal(peekKid(`${Buffer.from('{"kid":42}').toString('base64url')}.x.y`), null);
    assert.equal(peekKid(`${Buffer.from('{"kid":"k1"}').toString('base64url')}.x.y`), 'k1');
  });
});
