// POST /api/auth/provider/{provider}/token — what a login must not give away.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertDetail, bearer, faceHarness, form, PREFIX, send, WIRE, type Harness } from './fixtures.ts';

describe('POST /provider/{provider}/token (security)', () => {
  let h: Harness;
  before(async () => {
    h = await faceHarness();
  });
  after(async () => h.close());

  const login = (fields: Record<string, string>, headers: Record<string, string> = {}) => {
    const f = form(fields);
    return send(h, { method: 'POST', url: `${PREFIX}/provider/local/token`, payload: f.payload, headers: { ...f.headers, ...headers } });
  };

  test('unknown user and wrong password are indistinguishable (status, body and headers)', async () => {
    const unknown = await login({ username: 'mallory', password: 'x' });
    const wrong = await login({ username: 'bob', password: 'x' });
    assertDetail(unknown, 401, WIRE.badLogin);
    assertDetail(wrong, 401, WIRE.badLogin);
    assert.equal(unknown.headers['www-authenticate'], wrong.headers['www-authenticate']);
  });

  test('SQL in the username or password logs nobody in', async () => {
    assertDetail(await login({ username: "bob' --", password: 'x' }), 401, WIRE.badLogin);
    assertDetail(await login({ username: "' OR 1=1 --", password: "' OR '1'='1" }), 401, WIRE.badLogin);
    assertDetail(await login({ username: 'bob', password: "' OR '1'='1" }), 401, WIRE.badLogin);
  });

  test('usernames are exact: case and surrounding spaces matter', async () => {
    assertDetail(await login({ username: 'BOB', password: 'bob_password' }), 401, WIRE.badLogin);
    assertDetail(await login({ username: ' bob', password: 'bob_password' }), 401, WIRE.badLogin);
    assertDetail(await login({ username: 'bob\u0000', password: 'bob_password' }), 401, WIRE.badLogin);
  });

  test('a password hash is not accepted as the password', async () => {
    const hash = (await h.services.store.getPrincipalByUsername('bob'))?.passwordHash;
    assert.ok(hash);
    assertDetail(await login({ username: 'bob', password: hash }), 401, WIRE.badLogin);
  });

  test('credentials in the query string are not read', async () => {
    const res = await send(h, {
      method: 'POST',
      url: `${PREFIX}/provider/local/token?username=bob&password=bob_password`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    assert.equal(res.statusCode, 422);
  });

  test('an Authorization header on the login request is ignored (even Basic)', async () => {
    const basic = `Basic ${Buffer.from('alice:alice_password').toString('base64')}`;
    const res = await login({ username: 'bob', password: 'bob_password' }, { authorization: basic });
    assert.equal(res.statusCode, 200);
    const token = res.json<{ access_token: string }>().access_token;
    const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(token) });
    assert.deepEqual(who.json<{ identities: { id: string }[] }>().identities.map((i) => i.id), ['bob']);
  });

  test('the response carries no password material', async () => {
    const res = await login({ username: 'bob', password: 'bob_password' });
    assert.equal(res.statusCode, 200);
    assert.ok(!res.body.includes('bob_password'));
    assert.ok(!res.body.includes('$argon2'));
  });

  test('the access token names the session and the user, never a scope list or password', async () => {
    const res = await login({ username: 'bob', password: 'bob_password' });
    const token = res.json<{ access_token: string }>().access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.equal(claims.sub, (await h.services.users.get('bob')).id);
    assert.equal(typeof claims.sid, 'string');
    assert.equal(claims.exp, (claims.iat as number) + 900);
    assert.ok(!('scp' in claims), 'scopes come from the policy at each request, not from the token');
    assert.ok(!JSON.stringify(claims).includes('bob_password'));
  });
});
