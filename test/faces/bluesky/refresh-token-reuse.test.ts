// Refresh tokens are single-use. Presenting one again after the short window for concurrent
// refreshes means it was stolen (or the client is confused): the whole session is revoked,
// including its legitimately rotated refresh token and its current access token. Within the
// window (two threads of one client refreshing with the same token) each gets a pair.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertDetail,
  bearer,
  faceHarness,
  loginAs,
  PREFIX,
  REUSE_GRACE_MS,
  send,
  sessionIdOf,
  WIRE,
  type Harness,
  type Tokens,
} from './fixtures.ts';

const refresh = (h: Harness, token: string) =>
  send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: token } });

const whoami = (h: Harness, token: string) => send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(token) });

describe('refresh token reuse', () => {
  test('refresh once (both rotate), replay the first token later: 401 and the session is revoked', async () => {
    const h = await faceHarness();
    try {
      const first = await loginAs(h, 'bob');
      h.clock.advance(1000);
      const rotated = await refresh(h, first.refresh_token);
      assert.equal(rotated.statusCode, 200);
      const second = rotated.json<Tokens>();
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.notEqual(second.access_token, first.access_token);
      assert.equal((await whoami(h, second.access_token)).statusCode, 200);

      h.clock.advance(REUSE_GRACE_MS + 1);
      assertDetail(await refresh(h, first.refresh_token), 401, WIRE.sessionExpired);

      // the legitimately rotated refresh token is refused too
      assertDetail(await refresh(h, second.refresh_token), 401, WIRE.sessionExpired);
      // and so is every access token of the session
      assertDetail(await whoami(h, second.access_token), 401, WIRE.sessionExpired);
      assertDetail(await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(first.access_token) }), 401, WIRE.sessionExpired);
      assert.notEqual((await h.services.store.getSession(sessionIdOf(first.access_token)))?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('the reuse revokes only that session: the user other sessions go on', async () => {
    const h = await faceHarness();
    try {
      const stolen = await loginAs(h, 'alice');
      const other = await loginAs(h, 'alice');
      assert.equal((await refresh(h, stolen.refresh_token)).statusCode, 200);
      h.clock.advance(REUSE_GRACE_MS + 1);
      assert.equal((await refresh(h, stolen.refresh_token)).statusCode, 401);
      assert.equal((await whoami(h, other.access_token)).statusCode, 200);
      assert.equal((await refresh(h, other.refresh_token)).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('two refreshes racing with the same token (one client, two threads): both get a pair, the session lives', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'carol');
      const results = await Promise.all([refresh(h, tokens.refresh_token), refresh(h, tokens.refresh_token)]);
      assert.deepEqual(
        results.map((r) => r.statusCode),
        [200, 200],
      );
      const [a, b] = results.map((r) => r.json<Tokens>());
      assert.ok(a && b);
      assert.notEqual(a.refresh_token, b.refresh_token);
      // each new chain goes on; the session was not revoked
      assert.equal((await refresh(h, a.refresh_token)).statusCode, 200);
      assert.equal((await refresh(h, b.refresh_token)).statusCode, 200);
      assert.equal((await h.services.store.getSession(sessionIdOf(tokens.access_token)))?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('a replay just inside the window refreshes; just outside it revokes', async () => {
    const h = await faceHarness();
    try {
      const first = await loginAs(h, 'bob');
      assert.equal((await refresh(h, first.refresh_token)).statusCode, 200);
      h.clock.advance(REUSE_GRACE_MS);
      assert.equal((await refresh(h, first.refresh_token)).statusCode, 200, 'at the edge of the window');
      h.clock.advance(1);
      assertDetail(await refresh(h, first.refresh_token), 401, WIRE.sessionExpired);
      assert.notEqual((await h.services.store.getSession(sessionIdOf(first.access_token)))?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('with refreshReuseGrace 0 tokens are strictly single use: a racing pair gives one 200 and ends the session', async () => {
    const h = await faceHarness({ refreshReuseGrace: 0 });
    try {
      const tokens = await loginAs(h, 'carol');
      const results = await Promise.all([refresh(h, tokens.refresh_token), refresh(h, tokens.refresh_token)]);
      assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 401]);
      const winner = results.find((r) => r.statusCode === 200)?.json<Tokens>();
      assert.ok(winner);
      assertDetail(await refresh(h, winner.refresh_token), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('a replay long after (the old token expired meanwhile) still ends the session', async () => {
    const h = await faceHarness();
    try {
      const first = await loginAs(h, 'bob');
      let current = first;
      for (let day = 0; day < 8; day++) {
        h.clock.advance(86400 * 1000);
        const res = await refresh(h, current.refresh_token);
        assert.equal(res.statusCode, 200, `day ${day + 1}`);
        current = res.json<Tokens>();
      }
      assertDetail(await refresh(h, first.refresh_token), 401, WIRE.sessionExpired);
      assertDetail(await refresh(h, current.refresh_token), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });
});
