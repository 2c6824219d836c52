// DELETE /api/auth/session/revoke/{session_id} — ending one of the caller's sessions.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, bearer, createKey, faceHarness, loginAs, PREFIX, send, sessionIdOf, WIRE, assertDetail } from './fixtures.ts';

describe('DELETE /session/revoke/{session_id} (happy)', () => {
  test('revokes another session of the caller: {"success": true, "msg": ""}; that session stops, this one goes on', async () => {
    const h = await faceHarness();
    try {
      const here = await loginAs(h, 'bob');
      const there = await loginAs(h, 'bob');
      const sid = sessionIdOf(there.access_token);
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sid}`, headers: bearer(here.access_token) });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { success: true, msg: '' });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(there.access_token) }), 401, WIRE.sessionExpired);
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(here.access_token) });
      assert.equal(who.statusCode, 200);
      assert.deepEqual(who.json<{ sessions: { uuid: string }[] }>().sessions.map((s) => s.uuid), [sessionIdOf(here.access_token)]);
    } finally {
      await h.close();
    }
  });

  test('revoking the current session ends it at once', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'alice');
      const sid = sessionIdOf(tokens.access_token);
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sid}`, headers: bearer(tokens.access_token) });
      assert.deepEqual(res.json(), { success: true, msg: '' });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(tokens.access_token) }), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('an API key of the same user may revoke the user sessions', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'carol');
      const key = await createKey(h, bearer(tokens.access_token));
      const sid = sessionIdOf(tokens.access_token);
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sid}`, headers: apikey(key.secret) });
      assert.deepEqual(res.json(), { success: true, msg: '' });
      assert.notEqual((await h.services.store.getSession(sid))?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('the session id is accepted in upper case', async () => {
    const h = await faceHarness();
    try {
      const here = await loginAs(h, 'bob');
      const there = await loginAs(h, 'bob');
      const sid = sessionIdOf(there.access_token);
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sid.toUpperCase()}`, headers: bearer(here.access_token) });
      assert.equal(res.statusCode, 200);
      assert.notEqual((await h.services.store.getSession(sid))?.revokedAt, null);
    } finally {
      await h.close();
    }
  });
});
