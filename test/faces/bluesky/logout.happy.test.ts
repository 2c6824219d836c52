// POST /api/auth/logout — ends the session behind the access token.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, faceHarness, loginAs, PREFIX, send, sessionIdOf, WIRE } from './fixtures.ts';

describe('POST /logout (happy)', () => {
  test('answers {} and ends this session (access and refresh token), no other', async () => {
    const h = await faceHarness();
    try {
      const a = await loginAs(h, 'bob');
      const b = await loginAs(h, 'bob');
      const res = await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(a.access_token) });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {});
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(a.access_token) }), 401, WIRE.sessionExpired);
      assertDetail(await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: a.refresh_token } }), 401, WIRE.sessionExpired);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(b.access_token) })).statusCode, 200);
      assert.notEqual((await h.services.store.getSession(sessionIdOf(a.access_token)))?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('the Python client body "{}" and an empty JSON body are both accepted', async () => {
    const h = await faceHarness();
    try {
      for (const payload of ['{}', '']) {
        const t = await loginAs(h, 'alice');
        const res = await send(h, {
          method: 'POST',
          url: `${PREFIX}/logout`,
          headers: { ...bearer(t.access_token), 'content-type': 'application/json' },
          payload,
        });
        assert.equal(res.statusCode, 200, `body ${JSON.stringify(payload)}: ${res.body}`);
        assert.deepEqual(res.json(), {});
      }
    } finally {
      await h.close();
    }
  });

  test('with an API key: {} and the key keeps working (a key has no session)', async () => {
    const h = await faceHarness();
    try {
      const t = await loginAs(h, 'carol');
      const key = await createKey(h, bearer(t.access_token));
      const res = await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: apikey(key.secret) });
      assert.deepEqual(res.json(), {});
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(key.secret) })).statusCode, 200);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(t.access_token) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('clears the API key cookie when the browser sent one', async () => {
    const h = await faceHarness();
    try {
      const t = await loginAs(h, 'carol');
      const key = await createKey(h, bearer(t.access_token));
      const res = await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: { cookie: `bluesky_httpserver_api_key=${key.secret}` } });
      assert.equal(res.statusCode, 200);
      const cookie = String(res.headers['set-cookie']);
      assert.match(cookie, /^bluesky_httpserver_api_key=;/);
      assert.match(cookie, /Expires=Thu, 01 Jan 1970/);
    } finally {
      await h.close();
    }
  });
});
