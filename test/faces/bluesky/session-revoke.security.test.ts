// DELETE /api/auth/session/revoke/{session_id} — only one's own sessions.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { assertDetail, bearer, credentialChecks, faceHarness, loginAs, PREFIX, send, sessionIdOf, WIRE } from './fixtures.ts';

describe('DELETE /session/revoke/{session_id} (security)', () => {
  credentialChecks({
    method: 'DELETE',
    url: async () => `${PREFIX}/session/revoke/${randomUUID()}`,
    anonymousDetail: WIRE.notAuthenticated,
  });

  test('another user session: 404 No session <id>, and that session lives on', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const bob = await loginAs(h, 'bob');
      const sid = sessionIdOf(bob.access_token);
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sid}`, headers: bearer(alice.access_token) });
      assertDetail(res, 404, `No session ${sid}`);
      // nor may an admin end another user's session through this route
      const res2 = await send(h, {
        method: 'DELETE',
        url: `${PREFIX}/session/revoke/${sessionIdOf(alice.access_token)}`,
        headers: bearer(bob.access_token),
      });
      assertDetail(res2, 404, `No session ${sessionIdOf(alice.access_token)}`);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) })).statusCode, 200);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(alice.access_token) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('the 404 for another user session equals the 404 for an unknown one (no existence oracle)', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const bob = await loginAs(h, 'bob');
      const theirs = sessionIdOf(bob.access_token);
      const unknown = randomUUID();
      const a = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${theirs}`, headers: bearer(alice.access_token) });
      const b = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${unknown}`, headers: bearer(alice.access_token) });
      assert.equal(a.statusCode, b.statusCode);
      assert.equal(a.json<{ detail: string }>().detail.replace(theirs, 'ID'), b.json<{ detail: string }>().detail.replace(unknown, 'ID'));
    } finally {
      await h.close();
    }
  });

  test('a revoked session cannot revoke anything', async () => {
    const h = await faceHarness();
    try {
      const a = await loginAs(h, 'bob');
      const b = await loginAs(h, 'bob');
      await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(a.access_token) });
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sessionIdOf(b.access_token)}`, headers: bearer(a.access_token) });
      assertDetail(res, 401, WIRE.sessionExpired);
      assert.equal((await h.services.store.getSession(sessionIdOf(b.access_token)))?.revokedAt, null);
    } finally {
      await h.close();
    }
  });
});
