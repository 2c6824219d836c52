// POST /api/auth/apikey — keys never exceed what their creator may do.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  apikey,
  assertDetail,
  bearer,
  createKey,
  credentialChecks,
  faceHarness,
  loginAs,
  notEnough,
  notSubset,
  PREFIX,
  SCOPES,
  send,
} from './fixtures.ts';

describe('POST /apikey (security)', () => {
  credentialChecks({
    method: 'POST',
    url: async () => `${PREFIX}/apikey`,
    payload: {},
    anonymousDetail: notEnough(['user:apikeys'], []),
  });

  test('an observer asking for a scope it lacks: 400 subset message, no key made', async () => {
    const h = await faceHarness();
    try {
      const carol = await loginAs(h, 'carol');
      const res = await send(h, {
        method: 'POST',
        url: `${PREFIX}/apikey`,
        headers: bearer(carol.access_token),
        payload: { scopes: ['read:status', 'write:queue:edit'] },
      });
      assertDetail(res, 400, notSubset(['read:status', 'write:queue:edit'], SCOPES.observer));
      assert.equal((await h.services.apiKeys.list((await h.services.users.get('carol')).id)).length, 0);
    } finally {
      await h.close();
    }
  });

  test('a user without user:apikeys: 401 Not enough permissions', async () => {
    const h = await faceHarness();
    try {
      const dave = await loginAs(h, 'dave');
      const res = await send(h, { method: 'POST', url: `${PREFIX}/apikey`, headers: bearer(dave.access_token), payload: {} });
      assertDetail(res, 401, notEnough(['user:apikeys'], SCOPES.viewer));
    } finally {
      await h.close();
    }
  });

  test('a restricted key cannot mint a wider key: 400 lists the source key scopes as allowed', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const restricted = await createKey(h, bearer(bob.access_token), { scopes: ['read:status', 'user:apikeys'] });
      const res = await send(h, {
        method: 'POST',
        url: `${PREFIX}/apikey`,
        headers: apikey(restricted.secret),
        payload: { scopes: ['read:status', 'admin:apikeys'] },
      });
      assertDetail(res, 400, notSubset(['admin:apikeys', 'read:status'], ['read:status', 'user:apikeys']));
      const inherit = await send(h, {
        method: 'POST',
        url: `${PREFIX}/apikey`,
        headers: apikey(restricted.secret),
        payload: { scopes: ['inherit'] },
      });
      assert.equal(inherit.statusCode, 200);
      assert.deepEqual(inherit.json<{ scopes: string[] }>().scopes, ['read:status', 'user:apikeys'], 'inherit from a restricted key is that key, not the owner');
    } finally {
      await h.close();
    }
  });

  test('a key without user:apikeys cannot create keys: 401 Not enough permissions', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { scopes: ['read:status'] });
      const res = await send(h, { method: 'POST', url: `${PREFIX}/apikey`, headers: apikey(key.secret), payload: {} });
      assertDetail(res, 401, notEnough(['user:apikeys'], ['read:status']));
    } finally {
      await h.close();
    }
  });

  test('a form or text body cannot create a key, even with the browser cookie (no cross-site form posts)', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      const cookie = `bluesky_httpserver_api_key=${key.secret}`;
      for (const [type, payload] of [
        ['application/x-www-form-urlencoded', 'note=csrf'],
        ['text/plain', '{"note": "csrf"}'],
        ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="note"\r\n\r\ncsrf\r\n--x--\r\n'],
      ] as const) {
        const res = await send(h, { method: 'POST', url: `${PREFIX}/apikey`, headers: { cookie, 'content-type': type }, payload });
        assert.ok(res.statusCode === 415 || res.statusCode === 422, `${type}: ${res.statusCode}`);
      }
      assert.equal((await h.services.apiKeys.list((await h.services.users.get('bob')).id)).length, 1);
    } finally {
      await h.close();
    }
  });

  test('the key belongs to the caller, whatever the body says', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const bobId = (await h.services.users.get('bob')).id;
      const key = await createKey(h, bearer(alice.access_token), { principal: bobId, uuid: bobId });
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: apikey(key.secret) });
      assert.equal(who.json<{ uuid: string }>().uuid, (await h.services.users.get('alice')).id);
    } finally {
      await h.close();
    }
  });

  test('the secret is never shown again', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token));
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) });
      const info = await send(h, { method: 'GET', url: `${PREFIX}/apikey`, headers: apikey(key.secret) });
      const list = await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: bearer(bob.access_token) });
      for (const res of [who, info, list]) {
        assert.equal(res.statusCode, 200);
        assert.ok(!res.body.includes(key.secret.slice(8)), 'no part of the secret past the first eight');
        assert.ok(!res.body.includes('"secret"'));
      }
    } finally {
      await h.close();
    }
  });
});
