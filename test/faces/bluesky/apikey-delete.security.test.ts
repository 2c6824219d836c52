// DELETE /api/auth/apikey — only one's own keys.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, credentialChecks, faceHarness, loginAs, notEnough, PREFIX, SCOPES, send, WIRE } from './fixtures.ts';

describe('DELETE /apikey (security)', () => {
  credentialChecks({
    method: 'DELETE',
    url: async () => `${PREFIX}/apikey?first_eight=abcdef12`,
    anonymousDetail: notEnough(['user:apikeys'], []),
  });

  test("another user's key: 404, and that key still works", async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const bob = await loginAs(h, 'bob');
      const bobs = await createKey(h, bearer(bob.access_token));
      // neither a user nor an admin may delete someone else's key here
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${bobs.first_eight}`, headers: bearer(alice.access_token) });
      assertDetail(res, 404, WIRE.noSuchKey);
      const alices = await createKey(h, bearer(alice.access_token));
      const res2 = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${alices.first_eight}`, headers: bearer(bob.access_token) });
      assertDetail(res2, 404, WIRE.noSuchKey);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(bobs.secret) })).statusCode, 200);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(alices.secret) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('a caller without user:apikeys: 401 Not enough permissions, key kept', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { scopes: ['read:status'] });
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${key.first_eight}`, headers: apikey(key.secret) });
      assertDetail(res, 401, notEnough(['user:apikeys'], ['read:status']));
      const dave = await loginAs(h, 'dave');
      const res2 = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${key.first_eight}`, headers: bearer(dave.access_token) });
      assertDetail(res2, 401, notEnough(['user:apikeys'], SCOPES.viewer));
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('SQL or wildcard characters in first_eight match nothing', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      for (const probe of ["' OR 1=1 --", '%', '_%_%_%_%', '*', key.first_eight.slice(0, 4)]) {
        const res = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${encodeURIComponent(probe)}`, headers: bearer(bob.access_token) });
        assertDetail(res, 404, WIRE.noSuchKey);
      }
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });
});
