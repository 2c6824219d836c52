// POST /api/auth/logout — refused logouts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertDetail, bearer, faceHarness, loginAs, PREFIX, send, sessionIdOf, WIRE } from './fixtures.ts';

describe('POST /logout (errors)', () => {
  test('no credentials: 401 Not authenticated', async () => {
    const h = await faceHarness();
    try {
      assertDetail(await send(h, { method: 'POST', url: `${PREFIX}/logout` }), 401, WIRE.notAuthenticated);
    } finally {
      await h.close();
    }
  });

  test('logging out twice with the same token: 401 Session has expired', async () => {
    const h = await faceHarness();
    try {
      const t = await loginAs(h, 'bob');
      assert.equal((await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(t.access_token) })).statusCode, 200);
      assertDetail(await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(t.access_token) }), 401, WIRE.sessionExpired);
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
