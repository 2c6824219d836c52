// POST /vedauth/authorize/oauth — refused authorizations: each with its OAuth error, none of
// them creating a grant.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AUTHORIZE, assertOAuthError, authorizeRequest, JSON_TYPE, send, venafiHarness, type Harness } from './fixtures.ts';

const GOOD = { client_id: 'vcert-cli', username: 'walt', password: 'walt_password', scope: 'certificate:manage' };

describe('POST /vedauth/authorize/oauth (errors)', () => {
  let h: Harness;
  before(async () => {
    h = await venafiHarness();
  });
  after(async () => h.close());

  /** No request here may leave a grant behind. */
  const noGrants = async () => {
    for (const user of await h.services.store.listPrincipals()) {
      assert.deepEqual(
        (await h.services.store.listSessions(user.id)).filter((s) => s.clientId !== null),
        [],
        `no grant for ${user.username}`,
      );
    }
  };

  test('an unknown client_id: 400 invalid_client', async () => {
    assertOAuthError(await authorizeRequest(h, { ...GOOD, client_id: 'no-such-client' }), 400, 'invalid_client');
    await noGrants();
  });

  test('a malformed scope: 400 invalid_scope', async () => {
    for (const scope of ['certificate;;ssh', 'certificate:man age', '', ' ; ', 'certificate:manage,,revoke', "admin' OR 1=1"]) {
      assertOAuthError(await authorizeRequest(h, { ...GOOD, scope }), 400, 'invalid_scope');
    }
    await noGrants();
  });

  test("a scope beyond the application's: 400 invalid_scope, even for a user who holds it", async () => {
    assertOAuthError(await authorizeRequest(h, { ...GOOD, username: 'vera', password: 'vera_password', scope: 'admin' }), 400, 'invalid_scope');
    assertOAuthError(await authorizeRequest(h, { ...GOOD, scope: 'certificate:discover' }), 400, 'invalid_scope');
    assertOAuthError(await authorizeRequest(h, { ...GOOD, scope: 'certificate:manage;agent' }), 400, 'invalid_scope');
    await noGrants();
  });

  test('a wrong password or an unknown user: 400 invalid_grant', async () => {
    assertOAuthError(await authorizeRequest(h, { ...GOOD, password: 'wrong' }), 400, 'invalid_grant');
    assertOAuthError(await authorizeRequest(h, { ...GOOD, password: '' }), 400, 'invalid_grant');
    assertOAuthError(await authorizeRequest(h, { ...GOOD, username: 'no-such-user' }), 400, 'invalid_grant');
    await noGrants();
  });

  test('a user who holds none of the requested scope: 401 insufficient_rights', async () => {
    // bob's roles are queue-server roles: `admin:apikeys` is not the TPP admin scope
    assertOAuthError(await authorizeRequest(h, { ...GOOD, username: 'bob', password: 'bob_password' }), 401, 'insufficient_rights');
    assertOAuthError(
      await authorizeRequest(h, { client_id: 'admin-tool', username: 'bob', password: 'bob_password', scope: 'admin' }),
      401,
      'insufficient_rights',
    );
    assertOAuthError(await authorizeRequest(h, { ...GOOD, scope: 'ssh:manage' }), 401, 'insufficient_rights');
    await noGrants();
  });

  test('an account without roles or a disabled account: 401 insufficient_rights', async () => {
    assertOAuthError(await authorizeRequest(h, { ...GOOD, username: 'nobody', password: 'nobody_password' }), 401, 'insufficient_rights');
    assertOAuthError(await authorizeRequest(h, { ...GOOD, username: 'dora', password: 'dora_password' }), 401, 'insufficient_rights');
    await noGrants();
  });

  test('a missing parameter: 400 invalid_request naming it', async () => {
    for (const field of ['client_id', 'username', 'password', 'scope'] as const) {
      const { [field]: _gone, ...rest } = GOOD;
      const res = await authorizeRequest(h, rest);
      assertOAuthError(res, 400, 'invalid_request');
      assert.match(res.json<{ error_description: string }>().error_description, new RegExp(field));
    }
    await noGrants();
  });

  test('a parameter of the wrong type: 400 invalid_request', async () => {
    for (const [field, value] of [
      ['client_id', 5],
      ['username', null],
      ['password', ['walt_password']],
      ['scope', { certificate: 'manage' }],
      ['state', 1],
      ['client_id', ''],
    ] as const) {
      assertOAuthError(await authorizeRequest(h, { ...GOOD, [field]: value }), 400, 'invalid_request');
    }
    await noGrants();
  });

  test('malformed JSON, a body that is not an object, or no body: 400 invalid_request', async () => {
    for (const payload of ['{"client_id": ', '{', "{'a': 1}", '[]', '5', '"text"', 'null', '']) {
      assertOAuthError(await send(h, { method: 'POST', url: AUTHORIZE, headers: JSON_TYPE, payload }), 400, 'invalid_request');
    }
    assertOAuthError(await send(h, { method: 'POST', url: AUTHORIZE }), 400, 'invalid_request');
    await noGrants();
  });

  test('a form or text body: 400 invalid_request (the body is JSON)', async () => {
    const form = await send(h, {
      method: 'POST',
      url: AUTHORIZE,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(GOOD).toString(),
    });
    assertOAuthError(form, 400, 'invalid_request');
    const text = await send(h, { method: 'POST', url: AUTHORIZE, headers: { 'content-type': 'text/plain' }, payload: JSON.stringify(GOOD) });
    assertOAuthError(text, 400, 'invalid_request');
    await noGrants();
  });
});
