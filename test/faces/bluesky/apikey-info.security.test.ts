// GET /api/auth/apikey — describes only the key presented, and only while it is valid.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, faceHarness, loginAs, PREFIX, send, WIRE } from './fixtures.ts';

describe('GET /apikey (security)', () => {
  test('a deleted key: 401 Invalid API key', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      await send(h, { method: 'DELETE', url: `${PREFIX}/apikey?first_eight=${key.first_eight}`, headers: bearer(bob.access_token) });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) }), 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });

  test('a key whose owner was removed: 401 Invalid API key', async () => {
    const h = await faceHarness();
    try {
      const erin = await loginAs(h, 'erin');
      const key = await createKey(h, bearer(erin.access_token));
      await h.services.users.remove('erin');
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) }), 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });

  test('a key whose owner is disabled: 401 Invalid API key, as on every other route', async () => {
    const h = await faceHarness();
    try {
      const erin = await loginAs(h, 'erin');
      const key = await createKey(h, bearer(erin.access_token));
      await h.services.bundles.applyText('users:\n  - { username: erin, disabled: true }\n', 'disable erin');
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(key.secret) }), 401, WIRE.invalidKey);
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) }), 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });

  test('the first eight characters alone are not a key', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      const forged = key.first_eight + '0'.repeat(64);
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(forged) }), 401, WIRE.invalidKey);
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.first_eight) }), 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });

  test('Authorization: Basic: 400 with the exact message', async () => {
    const h = await faceHarness();
    try {
      const res = await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: { authorization: 'Basic Ym9iOmJvYl9wYXNzd29yZA==' } });
      assertDetail(res, 400, WIRE.badScheme);
    } finally {
      await h.close();
    }
  });

  test('the answer never contains the secret', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      const res = await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) });
      assert.equal(res.statusCode, 200);
      assert.ok(!res.body.includes(key.secret));
      assert.ok(!('secret' in res.json<object>()));
    } finally {
      await h.close();
    }
  });

  test('the query key wins over the header key: a wrong query key is refused', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      const res = await send(h, { method: 'GET', url: `${PREFIX}/apikey?api_key=${'1'.repeat(72)}`, headers: apikey(key.secret) });
      assertDetail(res, 401, WIRE.invalidKey);
    } finally {
      await h.close();
    }
  });
});
