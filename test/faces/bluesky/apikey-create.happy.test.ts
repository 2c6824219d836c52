// POST /api/auth/apikey — new API keys for the caller.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, bearer, createKey, faceHarness, loginAs, PREFIX, SCOPES, scopesOf, send } from './fixtures.ts';

describe('POST /apikey (happy)', () => {
  test('defaults: inherit scopes, no expiry, no note; a 72-hex secret whose first eight are the id', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const res = await send(h, { method: 'POST', url: `${PREFIX}/apikey`, headers: bearer(bob.access_token), payload: {} });
      assert.equal(res.statusCode, 200);
      const key = res.json<Record<string, unknown>>();
      assert.deepEqual(Object.keys(key).sort(), ['expiration_time', 'first_eight', 'latest_activity', 'note', 'scopes', 'secret']);
      assert.match(key.secret as string, /^[0-9a-f]{72}$/);
      assert.equal(key.first_eight, (key.secret as string).slice(0, 8));
      assert.deepEqual(key.scopes, ['inherit']);
      assert.equal(key.expiration_time, null);
      assert.equal(key.note, null);
      assert.equal(key.latest_activity, null);
    } finally {
      await h.close();
    }
  });

  test('the Python client body: expires_in, scopes and note', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { expires_in: 3600, scopes: ['read:status', 'read:queue'], note: 'beamline' });
      assert.equal(key.expiration_time, '2026-11-23T13:00:00');
      assert.deepEqual(key.scopes, ['read:status', 'read:queue'], 'stored and shown as asked, like the original');
      assert.equal(key.note, 'beamline');
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['admin', 'expert'], scopes: ['read:queue', 'read:status'] });
    } finally {
      await h.close();
    }
  });

  test('a negative expires_in makes a key that is born expired (as the original)', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { expires_in: -5, scopes: ['read:status'] });
      assert.equal(key.expiration_time, '2026-11-23T11:59:55');
      const res = await h.app.inject({ url: '/api/auth/scopes', headers: apikey(key.secret) });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { detail: 'Invalid API key' });
    } finally {
      await h.close();
    }
  });

  test('explicit nulls mean the defaults', async () => {
    const h = await faceHarness();
    try {
      const carol = await loginAs(h, 'carol');
      const key = await createKey(h, bearer(carol.access_token), { expires_in: null, scopes: null, note: null });
      assert.deepEqual(key.scopes, ['inherit']);
      assert.equal(key.expiration_time, null);
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['observer'], scopes: [...SCOPES.observer] });
    } finally {
      await h.close();
    }
  });

  test('"inherit" among other scopes stores inherit', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const key = await createKey(h, bearer(alice.access_token), { scopes: ['inherit', 'read:status'] });
      assert.deepEqual(key.scopes, ['inherit']);
    } finally {
      await h.close();
    }
  });

  test('a key made with an inheriting key inherits; a key made with a restricted key gets its scopes', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const inheriting = await createKey(h, bearer(bob.access_token));
      const child = await createKey(h, apikey(inheriting.secret));
      assert.deepEqual(child.scopes, ['inherit']);
      const restricted = await createKey(h, bearer(bob.access_token), { scopes: ['read:status', 'user:apikeys'] });
      const grandchild = await createKey(h, apikey(restricted.secret));
      assert.deepEqual(grandchild.scopes, ['read:status', 'user:apikeys']);
      const narrower = await createKey(h, apikey(restricted.secret), { scopes: ['read:status'] });
      assert.deepEqual(narrower.scopes, ['read:status']);
    } finally {
      await h.close();
    }
  });

  test('expires_in 0 makes a key that is already expired; a huge lifetime within the cap is accepted', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const dead = await createKey(h, bearer(bob.access_token), { expires_in: 0 });
      assert.equal(dead.expiration_time, '2026-11-23T12:00:00');
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(dead.secret) })).statusCode, 401);
      const long = await createKey(h, bearer(bob.access_token), { expires_in: 10 * 365 * 86400 });
      assert.match(String(long.expiration_time), /^2036-11-2\dT12:00:00$/);
    } finally {
      await h.close();
    }
  });

  test('every key has a different secret', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const secrets = new Set<string>();
      for (let i = 0; i < 10; i++) secrets.add((await createKey(h, bearer(bob.access_token))).secret);
      assert.equal(secrets.size, 10);
    } finally {
      await h.close();
    }
  });
});
