// POST /api/auth/session/refresh — a refresh token is single-use and bound to a live session.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertDetail, bearer, faceHarness, loginAs, PREFIX, send, sessionIdOf, WIRE, type Harness, type Tokens, REUSE_GRACE_MS } from './fixtures.ts';

const refresh = (h: Harness, token: string) =>
  send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: token } });

describe('POST /session/refresh (security)', () => {
  test('an access token is not a refresh token', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'bob');
      assertDetail(await refresh(h, tokens.access_token), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('a refresh token is not an access token', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'bob');
      const res = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(tokens.refresh_token) });
      assertDetail(res, 401, WIRE.badToken);
    } finally {
      await h.close();
    }
  });

  test('after logout the refresh token is refused', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'bob');
      assert.equal((await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(tokens.access_token) })).statusCode, 200);
      assertDetail(await refresh(h, tokens.refresh_token), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('after the session is revoked (from another session) its refresh token is refused', async () => {
    const h = await faceHarness();
    try {
      const victim = await loginAs(h, 'bob');
      const other = await loginAs(h, 'bob');
      const revoke = await send(h, {
        method: 'DELETE',
        url: `${PREFIX}/session/revoke/${sessionIdOf(victim.access_token)}`,
        headers: bearer(other.access_token),
      });
      assert.equal(revoke.statusCode, 200);
      assertDetail(await refresh(h, victim.refresh_token), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('disabling a user ends its sessions: refresh refused', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'erin');
      await h.services.users.setDisabled('erin', true);
      assertDetail(await refresh(h, tokens.refresh_token), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('a used refresh token is refused and the session is revoked (reuse detection)', async () => {
    const h = await faceHarness();
    try {
      const first = await loginAs(h, 'carol');
      const ok = await refresh(h, first.refresh_token);
      assert.equal(ok.statusCode, 200);
      const second = ok.json<Tokens>();
      h.clock.advance(REUSE_GRACE_MS + 1000); // past the window for concurrent refreshes
      assertDetail(await refresh(h, first.refresh_token), 401, WIRE.sessionExpired);
      assertDetail(await refresh(h, second.refresh_token), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('credentials on the refresh request play no part (a refresh is authorised by its token alone)', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const alice = await loginAs(h, 'alice');
      const res = await send(h, {
        method: 'POST',
        url: `${PREFIX}/session/refresh`,
        headers: bearer(bob.access_token),
        payload: { refresh_token: alice.refresh_token },
      });
      assert.equal(res.statusCode, 200);
      const scopes = await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(res.json<Tokens>().access_token) });
      assert.deepEqual(scopes.json<{ roles: string[] }>().roles, ['user']);
    } finally {
      await h.close();
    }
  });
});
