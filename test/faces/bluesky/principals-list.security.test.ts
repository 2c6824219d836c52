// GET /api/auth/principal — admin:read:principals only.

import { describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, credentialChecks, faceHarness, loginAs, notEnough, PREFIX, SCOPES, send } from './fixtures.ts';

describe('GET /principal (security)', () => {
  credentialChecks({
    method: 'GET',
    url: async () => `${PREFIX}/principal`,
    anonymousDetail: notEnough(['admin:read:principals'], []),
  });

  test('a user without admin:read:principals: 401 with the exact message', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      assertDetail(
        await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: bearer(alice.access_token) }),
        401,
        notEnough(['admin:read:principals'], SCOPES.user),
      );
      const carol = await loginAs(h, 'carol');
      assertDetail(
        await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: bearer(carol.access_token) }),
        401,
        notEnough(['admin:read:principals'], SCOPES.observer),
      );
    } finally {
      await h.close();
    }
  });

  test("an admin's key without the scope: 401 listing the key's scopes", async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { scopes: ['read:status', 'admin:apikeys'] });
      assertDetail(
        await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: apikey(key.secret) }),
        401,
        notEnough(['admin:read:principals'], ['admin:apikeys', 'read:status']),
      );
    } finally {
      await h.close();
    }
  });

  test('an admin who loses the role loses access at the next request', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      await h.services.users.setRoles('bob', ['observer']);
      assertDetail(
        await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: bearer(bob.access_token) }),
        401,
        notEnough(['admin:read:principals'], SCOPES.observer),
      );
    } finally {
      await h.close();
    }
  });
});
