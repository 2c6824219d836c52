// DELETE /api/auth/session/revoke/{session_id} — only one's own sessions.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { assertDetail, bearer, credentialChecks, faceHarness, loginAs, PREFIX, send, sessionIdOf, WIRE } from './fixtures.ts';

describe('DELETE /session/revoke/{session_id} (security)', () => {
  const unknown = randomUUID();
  credentialChecks({
    method: 'DELETE',
    url: async () => `${PREFIX}/session/revoke/${unknown}`,
    // as the original: no credentials is an anonymous caller, who owns no session
    anonymousStatus: 404,
    anonymousDetail: `No session ${unknown}`,
  });

  test("no credentials on someone's session: 404 with the original's message, and it lives on", async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sessionIdOf(bob.access_token)}` });
      assertDetail(res, 404, WIRE.foreignSession);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('another user session: 404 with the original message, and that session lives on', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const bob = await loginAs(h, 'bob');
      const sid = sessionIdOf(bob.access_token);
      const res = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${sid}`, headers: bearer(alice.access_token) });
      assertDetail(res, 404, WIRE.foreignSession);
      // nor may an admin end another user's session through this route
      const res2 = await send(h, {
        method: 'DELETE',
        url: `${PREFIX}/session/revoke/${sessionIdOf(alice.access_token)}`,
        headers: bearer(bob.access_token),
      });
      assertDetail(res2, 404, WIRE.foreignSession);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) })).statusCode, 200);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(alice.access_token) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test("an unknown session is 'No session <id>'; another user's never reveals more than that it is not the caller's", async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const bob = await loginAs(h, 'bob');
      const theirs = sessionIdOf(bob.access_token);
      const missing = randomUUID();
      const a = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${theirs}`, headers: bearer(alice.access_token) });
      const b = await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${missing}`, headers: bearer(alice.access_token) });
      assertDetail(a, 404, WIRE.foreignSession);
      assertDetail(b, 404, `No session ${missing}`);
      assert.ok(!JSON.stringify(a.json()).includes(theirs), 'the answer does not echo the other session');
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
