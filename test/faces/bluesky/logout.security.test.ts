// POST /api/auth/logout — a logout really ends the session.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertDetail, bearer, credentialChecks, faceHarness, loginAs, PREFIX, send, sessionIdOf, WIRE } from './fixtures.ts';

describe('POST /logout (security)', () => {
  credentialChecks({ method: 'POST', url: async () => `${PREFIX}/logout`, anonymousDetail: WIRE.notAuthenticated, answersEveryone: true });

  test('an expired token ends nothing: 200 {} but its session stays (a refresh still works)', async () => {
    const h = await faceHarness();
    try {
      const t = await loginAs(h, 'alice');
      h.clock.advance(901_000);
      const res = await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(t.access_token) });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {});
      assert.equal((await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: t.refresh_token } })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test("one user's logout leaves another user's sessions alone", async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const bob = await loginAs(h, 'bob');
      await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(alice.access_token) });
      assert.equal((await h.services.store.getSession(sessionIdOf(bob.access_token)))?.revokedAt, null);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('a token refreshed before logout dies with the session', async () => {
    const h = await faceHarness();
    try {
      const first = await loginAs(h, 'carol');
      const refreshed = await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: first.refresh_token } });
      const second = refreshed.json<{ access_token: string }>();
      await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(second.access_token) });
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(first.access_token) }), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });
});
