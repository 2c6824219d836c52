// GET /api/auth/apikey — what the presented API key is.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, bearer, createKey, faceHarness, loginAs, PREFIX, send } from './fixtures.ts';

describe('GET /apikey (happy)', () => {
  test('the key of the request, without its secret, from the header, the query or the cookie', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { expires_in: 600, scopes: ['read:status'], note: 'n1' });
      const expected = {
        first_eight: key.first_eight,
        expiration_time: '2026-11-23T12:10:00',
        note: 'n1',
        scopes: ['read:status'],
        latest_activity: null,
      };
      for (const req of [
        { headers: apikey(key.secret), url: `${PREFIX}/apikey` },
        { headers: {}, url: `${PREFIX}/apikey?api_key=${key.secret}` },
        { headers: { cookie: `bluesky_httpserver_api_key=${key.secret}` }, url: `${PREFIX}/apikey` },
      ]) {
        const res = await send(h, { method: 'GET', ...req });
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), expected);
      }
    } finally {
      await h.close();
    }
  });

  test('latest_activity shows when the key was last used', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const key = await createKey(h, bearer(alice.access_token));
      h.clock.advance(5 * 60_000);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(key.secret) })).statusCode, 200);
      const res = await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) });
      assert.equal(res.json<{ latest_activity: string }>().latest_activity, '2026-11-23T12:05:00');
      await h.services.activity.flush();
      const after = await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) });
      assert.equal(after.json<{ latest_activity: string }>().latest_activity, '2026-11-23T12:05:00', 'the same once written');
    } finally {
      await h.close();
    }
  });

  test('an upper-case secret names the same key', async () => {
    const h = await faceHarness();
    try {
      const carol = await loginAs(h, 'carol');
      const key = await createKey(h, bearer(carol.access_token));
      const res = await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret.toUpperCase()) });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json<{ first_eight: string }>().first_eight, key.first_eight);
    } finally {
      await h.close();
    }
  });
});
