// POST /api/auth/principal/{uuid}/apikey — admin:apikeys only.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, credentialChecks, faceHarness, loginAs, notEnough, PREFIX, SCOPES, scopesOf, send, uuidOf, type CreatedKey } from './fixtures.ts';

describe('POST /principal/{uuid}/apikey (security)', () => {
  credentialChecks({
    method: 'POST',
    url: async (h) => `${PREFIX}/principal/${await uuidOf(h, 'alice')}/apikey`,
    payload: {},
    anonymousDetail: notEnough(['admin:apikeys'], []),
  });

  test('a user without admin:apikeys cannot mint keys for others (nor for itself here): 401', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      for (const name of ['bob', 'alice']) {
        const res = await send(h, { method: 'POST', url: `${PREFIX}/principal/${await uuidOf(h, name)}/apikey`, headers: bearer(alice.access_token), payload: {} });
        assertDetail(res, 401, notEnough(['admin:apikeys'], SCOPES.user));
      }
      assert.equal((await h.services.apiKeys.list(await uuidOf(h, 'bob'))).length, 0);
    } finally {
      await h.close();
    }
  });

  test("a key minted for a user is still capped by that user's current scopes", async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const alice = await uuidOf(h, 'alice');
      const key = (await send(h, { method: 'POST', url: `${PREFIX}/principal/${alice}/apikey`, headers: bearer(bob.access_token), payload: { scopes: ['read:status', 'write:queue:edit'] } })).json<CreatedKey>();
      await h.services.users.setRoles('alice', ['observer']);
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['observer'], scopes: ['read:status'] });
    } finally {
      await h.close();
    }
  });

  test("an admin's restricted key without admin:apikeys: 401", async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { scopes: ['user:apikeys'] });
      const res = await send(h, { method: 'POST', url: `${PREFIX}/principal/${await uuidOf(h, 'alice')}/apikey`, headers: apikey(key.secret), payload: {} });
      assertDetail(res, 401, notEnough(['admin:apikeys'], ['user:apikeys']));
    } finally {
      await h.close();
    }
  });
});
