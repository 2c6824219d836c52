// GET /api/auth/scopes — the scopes reported are the scopes enforced, and they follow revocation.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, faceHarness, loginAs, PREFIX, scopesOf, send, sessionIdOf, WIRE } from './fixtures.ts';

describe('GET /scopes (security)', () => {
  test('after logout the token gets 401, not the anonymous answer', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(bob.access_token) });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(bob.access_token) }), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('after the session is revoked the token gets 401', async () => {
    const h = await faceHarness();
    try {
      const a = await loginAs(h, 'alice');
      const b = await loginAs(h, 'alice');
      await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sessionIdOf(a.access_token)}`, headers: bearer(b.access_token) });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(a.access_token) }), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('after key deletion the key gets 401', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${key.first_eight}`, headers: bearer(bob.access_token) });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(key.secret) }), 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });

  test('what /scopes reports is what routes enforce', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { scopes: ['read:status', 'user:apikeys'] });
      const reported = await scopesOf(h, apikey(key.secret));
      assert.ok(!reported.scopes.includes('admin:read:principals'));
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: apikey(key.secret) })).statusCode, 401);
      assert.ok(reported.scopes.includes('user:apikeys'));
      assert.equal((await send(h, { method: 'POST', url: `${PREFIX}/apikey`, headers: apikey(key.secret), payload: {} })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('a key whose owner lost every role has no scopes', async () => {
    const h = await faceHarness();
    try {
      const erin = await loginAs(h, 'erin');
      const key = await createKey(h, bearer(erin.access_token));
      await h.services.users.setRoles('erin', []);
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: [], scopes: [] });
    } finally {
      await h.close();
    }
  });
});
