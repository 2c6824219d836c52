// DELETE /api/auth/apikey?first_eight=XXXXXXXX — revoking one of the caller's keys.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, faceHarness, loginAs, PREFIX, send, WIRE } from './fixtures.ts';

describe('DELETE /apikey (happy)', () => {
  test('deletes the key: {"success": true, "msg": ""}; the key stops working, the others do not', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const doomed = await createKey(h, bearer(bob.access_token));
      const kept = await createKey(h, bearer(bob.access_token));
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${doomed.first_eight}`, headers: bearer(bob.access_token) });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { success: true, msg: '' });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(doomed.secret) }), 401, WIRE.invalidKey);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(kept.secret) })).statusCode, 200);
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) });
      assert.deepEqual(who.json<{ api_keys: { first_eight: string }[] }>().api_keys.map((k) => k.first_eight), [kept.first_eight]);
    } finally {
      await h.close();
    }
  });

  test('a key may delete itself', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const key = await createKey(h, bearer(alice.access_token));
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${key.first_eight}`, headers: apikey(key.secret) });
      assert.deepEqual(res.json(), { success: true, msg: '' });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) }), 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });

  test('only the first eight characters count (the whole secret may be passed), in either case', async () => {
    const h = await faceHarness();
    try {
      const carol = await loginAs(h, 'carol');
      const a = await createKey(h, bearer(carol.access_token));
      const b = await createKey(h, bearer(carol.access_token));
      const byWhole = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${a.secret}`, headers: bearer(carol.access_token) });
      assert.equal(byWhole.statusCode, 200);
      const byUpper = await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${b.first_eight.toUpperCase()}`, headers: bearer(carol.access_token) });
      assert.equal(byUpper.statusCode, 200);
      assert.equal((await h.services.apiKeys.list((await h.services.users.get('carol')).id)).length, 0);
    } finally {
      await h.close();
    }
  });

  test('the Python client sends "{}" with DELETE: accepted', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      const res = await send(h, {
        method: 'DELETE',
        url: `${PREFIX}/apikey?first_eight=${key.first_eight}`,
        headers: { ...bearer(bob.access_token), 'content-type': 'application/json' },
        payload: '{}',
      });
      assert.deepEqual(res.json(), { success: true, msg: '' });
    } finally {
      await h.close();
    }
  });
});
