// POST /api/auth/logout — refused logouts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertDetail, bearer, faceHarness, loginAs, PREFIX, send, sessionIdOf, WIRE } from './fixtures.ts';

describe('POST /logout (errors)', () => {
  test('no credentials: 200 {} (as the original: a client can always log out)', async () => {
    const h = await faceHarness();
    try {
      const res = await send(h, { method: 'POST', url: `${PREFIX}/logout` });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {});
    } finally {
      await h.close();
    }
  });

  test('logging out twice with the same token: 200 {} both times, the token stays refused elsewhere', async () => {
    const h = await faceHarness();
    try {
      const t = await loginAs(h, 'bob');
      assert.equal((await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(t.access_token) })).statusCode, 200);
      const again = await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(t.access_token) });
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json(), {});
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(t.access_token) }), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('malformed JSON body: 422 and the session is not ended', async () => {
    const h = await faceHarness();
    try {
      const t = await loginAs(h, 'bob');
      const res = await send(h, {
        method: 'POST',
        url: `${PREFIX}/logout`,
        headers: { ...bearer(t.access_token), 'content-type': 'application/json' },
        payload: '{"x":',
      });
      assertDetail(res, 422, [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }]);
      assert.equal((await h.services.store.getSession(sessionIdOf(t.access_token)))?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('GET: 404', async () => {
    const h = await faceHarness();
    try {
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/logout` }), 404, 'Not Found');
    } finally {
      await h.close();
    }
  });
});
