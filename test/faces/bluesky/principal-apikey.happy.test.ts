// POST /api/auth/principal/{uuid}/apikey — an admin makes a key for another principal.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, bearer, faceHarness, loginAs, PREFIX, SCOPES, scopesOf, send, uuidOf, type CreatedKey } from './fixtures.ts';

describe('POST /principal/{uuid}/apikey (happy)', () => {
  test('the key belongs to the target and carries its scopes (inherit by default)', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const alice = await uuidOf(h, 'alice');
      const res = await send(h, { method: 'POST', url: `${PREFIX}/principal/${alice}/apikey`, headers: bearer(bob.access_token), payload: { note: 'for alice' } });
      assert.equal(res.statusCode, 200);
      const key = res.json<CreatedKey>();
      assert.match(key.secret, /^[0-9a-f]{72}$/);
      assert.deepEqual(key.scopes, ['inherit']);
      assert.equal(key.note, 'for alice');
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: apikey(key.secret) });
      assert.equal(who.json<{ uuid: string }>().uuid, alice);
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['user'], scopes: [...SCOPES.user] });
    } finally {
      await h.close();
    }
  });

  test('explicit scopes within the target scopes, and an expiry', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const carol = await uuidOf(h, 'carol');
      const res = await send(h, {
        method: 'POST',
        url: `${PREFIX}/principal/${carol}/apikey`,
        headers: bearer(bob.access_token),
        payload: { scopes: ['read:queue'], expires_in: 60 },
      });
      const key = res.json<CreatedKey>();
      assert.deepEqual(key.scopes, ['read:queue']);
      assert.equal(key.expiration_time, '2026-11-23T12:01:00');
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['observer'], scopes: ['read:queue'] });
    } finally {
      await h.close();
    }
  });

  test('the key shows up in the target principal', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const erin = await uuidOf(h, 'erin');
      const key = (await send(h, { method: 'POST', url: `${PREFIX}/principal/${erin}/apikey`, headers: bearer(bob.access_token), payload: {} })).json<CreatedKey>();
      const p = await send(h, { method: 'GET', url: `${PREFIX}/principal/${erin}`, headers: bearer(bob.access_token) });
      assert.deepEqual(p.json<{ api_keys: { first_eight: string }[] }>().api_keys.map((k) => k.first_eight), [key.first_eight]);
    } finally {
      await h.close();
    }
  });
});
