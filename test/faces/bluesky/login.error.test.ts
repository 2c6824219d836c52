// POST /api/auth/provider/{provider}/token — refused logins and bad requests.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertDetail, assertValidation, faceHarness, form, PREFIX, send, WIRE, type Harness } from './fixtures.ts';

describe('POST /provider/{provider}/token (errors)', () => {
  let h: Harness;
  before(async () => {
    h = await faceHarness();
  });
  after(async () => h.close());

  const login = (fields: Record<string, string>, provider = 'local') =>
    send(h, { method: 'POST', url: `${PREFIX}/provider/${provider}/token`, ...form(fields) });

  test('wrong password: 401 Incorrect username or password', async () => {
    assertDetail(await login({ username: 'bob', password: 'wrong' }), 401, WIRE.badLogin);
  });

  test('unknown user: the same 401 as a wrong password', async () => {
    assertDetail(await login({ username: 'mallory', password: 'bob_password' }), 401, WIRE.badLogin);
  });

  test('empty password: 401 Incorrect username or password', async () => {
    assertDetail(await login({ username: 'bob', password: '' }), 401, WIRE.badLogin);
  });

  test('right password but no roles: 401 User is not authorized to access the server', async () => {
    assertDetail(await login({ username: 'nobody', password: 'nobody_password' }), 401, WIRE.notAuthorized);
  });

  test('disabled user: 401 User is not authorized to access the server', async () => {
    await h.services.users.setDisabled('erin', true);
    try {
      assertDetail(await login({ username: 'erin', password: 'erin_password' }), 401, WIRE.notAuthorized);
    } finally {
      await h.services.users.setDisabled('erin', false);
    }
  });

  test('unknown provider: 404 Not Found', async () => {
    assertDetail(await login({ username: 'bob', password: 'bob_password' }, 'nope'), 404, 'Not Found');
  });

  test('missing fields: 422 naming each one', async () => {
    const res = await login({});
    assertValidation(res, ['body', 'username']);
    assertValidation(res, ['body', 'password']);
    assertValidation(await login({ username: 'bob' }), ['body', 'password']);
  });

  test('empty username: 422', async () => {
    assertValidation(await login({ username: '', password: 'x' }), ['body', 'username']);
  });

  test('no body at all: 422', async () => {
    const res = await send(h, { method: 'POST', url: `${PREFIX}/provider/local/token` });
    assert.equal(res.statusCode, 422);
    assert.ok('detail' in res.json<object>());
  });

  test('an unsupported content type: 415', async () => {
    const res = await send(h, {
      method: 'POST',
      url: `${PREFIX}/provider/local/token`,
      payload: '<login/>',
      headers: { 'content-type': 'application/xml' },
    });
    assertDetail(res, 415, 'Unsupported media type');
  });

  test('GET on the login URL: 404', async () => {
    assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/provider/local/token` }), 404, 'Not Found');
  });

  test('no session is left behind by refused logins', async () => {
    const bob = await h.services.users.get('bob');
    const before = await h.services.store.listSessions(bob.id);
    await login({ username: 'bob', password: 'wrong' });
    await login({ username: 'bob', password: '' });
    assert.equal((await h.services.store.listSessions(bob.id)).length, before.length);
  });
});
