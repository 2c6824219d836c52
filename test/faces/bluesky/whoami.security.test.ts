// GET /api/auth/whoami — credentials, and what the answer must not reveal.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, credentialChecks, faceHarness, loginAs, PREFIX, send, WIRE } from './fixtures.ts';

describe('GET /whoami (security)', () => {
  credentialChecks({ method: 'GET', url: async () => `${PREFIX}/whoami`, anonymousDetail: WIRE.notAuthenticated });

  test('the answer carries no password hash and no secrets', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      const res = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) });
      assert.equal(res.statusCode, 200);
      for (const secret of ['$argon2', 'bob_password', key.secret, bob.refresh_token, bob.access_token]) {
        assert.ok(!res.body.includes(secret), `no ${secret.slice(0, 8)}… in the answer`);
      }
      assert.ok(!/password|hash|secret/i.test(res.body));
    } finally {
      await h.close();
    }
  });

  test('a disabled user is refused at once (token and key)', async () => {
    const h = await faceHarness();
    try {
      const erin = await loginAs(h, 'erin');
      const key = await createKey(h, bearer(erin.access_token));
      await h.services.users.setDisabled('erin', true);
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(erin.access_token) }), 401, WIRE.sessionExpired);
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: apikey(key.secret) }), 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });

  test('a removed user: 401, never a 500', async () => {
    const h = await faceHarness();
    try {
      const erin = await loginAs(h, 'erin');
      const key = await createKey(h, bearer(erin.access_token));
      await h.services.users.remove('erin');
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(erin.access_token) }), 401, WIRE.sessionExpired);
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: apikey(key.secret) }), 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });

  test('an empty api_key query parameter or cookie does not shadow the bearer token', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const bobId = (await h.services.users.get('bob')).id;
      for (const req of [
        { url: `${PREFIX}/whoami?api_key=`, headers: bearer(bob.access_token) },
        { url: `${PREFIX}/whoami`, headers: { ...bearer(bob.access_token), cookie: 'bluesky_httpserver_api_key=' } },
      ]) {
        const res = await send(h, { method: 'GET', ...req });
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json<{ uuid: string }>().uuid, bobId);
      }
    } finally {
      await h.close();
    }
  });

  test('an API key in the query wins over the bearer token: you are the key owner', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const carol = await loginAs(h, 'carol');
      const carols = await createKey(h, bearer(carol.access_token));
      const res = await send(h, { method: 'GET', url: `${PREFIX}/whoami?api_key=${carols.secret}`, headers: bearer(bob.access_token) });
      assert.equal(res.json<{ uuid: string }>().uuid, (await h.services.users.get('carol')).id);
    } finally {
      await h.close();
    }
  });
});
