// POST /api/auth/session/refresh — exchanging a refresh token for a new pair.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACCESS_TOKEN_TTL_MS, bearer, faceHarness, loginAs, PREFIX, send, sessionIdOf, type Tokens } from './fixtures.ts';

describe('POST /session/refresh (happy)', () => {
  test('returns a new token object; both tokens rotate; the session stays the same', async () => {
    const h = await faceHarness();
    try {
      const first = await loginAs(h, 'bob');
      h.clock.advance(1000); // a new `iat`, so the access token differs even in its claims
      const res = await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: first.refresh_token } });
      assert.equal(res.statusCode, 200);
      const next = res.json<Tokens>();
      assert.deepEqual(Object.keys(next).sort(), ['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'token_type']);
      assert.equal(next.expires_in, 900);
      assert.equal(next.refresh_token_expires_in, 604800);
      assert.equal(next.token_type, 'bearer');
      assert.notEqual(next.access_token, first.access_token);
      assert.notEqual(next.refresh_token, first.refresh_token);
      assert.equal(sessionIdOf(next.access_token), sessionIdOf(first.access_token));
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(next.access_token) });
      assert.equal(who.statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('refreshing after the access token expired gives a working token (the client auto-refresh flow)', async () => {
    const h = await faceHarness();
    try {
      const first = await loginAs(h, 'alice');
      h.clock.advance(ACCESS_TOKEN_TTL_MS + 60_000);
      const stale = await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(first.access_token) });
      assert.equal(stale.statusCode, 401);
      const res = await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: first.refresh_token } });
      assert.equal(res.statusCode, 200);
      const again = await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(res.json<Tokens>().access_token) });
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json<{ roles: string[] }>().roles, ['user']);
    } finally {
      await h.close();
    }
  });

  test('a chain of refreshes keeps working, each token once', async () => {
    const h = await faceHarness();
    try {
      let tokens = await loginAs(h, 'carol');
      for (let i = 0; i < 5; i++) {
        h.clock.advance(60_000);
        const res = await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: tokens.refresh_token } });
        assert.equal(res.statusCode, 200, `refresh #${i + 1}`);
        tokens = res.json<Tokens>();
      }
      const sid = sessionIdOf(tokens.access_token);
      const stored = await h.services.store.getSession(sid);
      assert.ok(stored);
      const seen = h.services.sessions.withActivity(stored);
      assert.equal(seen.refreshCount, 5, 'counted at once for this node');
      assert.equal(seen.lastRefreshedAt, h.clock.now());
      await h.services.sessionActivity.flush();
      const session = await h.services.store.getSession(sid);
      assert.equal(session?.refreshCount, 5, 'and in the store once the batch is written');
      assert.equal(session?.lastRefreshedAt, h.clock.now());
      assert.equal(session?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('the body is the token object itself, sent as JSON text', async () => {
    const h = await faceHarness();
    try {
      const first = await loginAs(h, 'bob');
      const res = await send(h, {
        method: 'POST',
        url: `${PREFIX}/session/refresh`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ refresh_token: first.refresh_token }),
      });
      assert.equal(res.statusCode, 200);
    } finally {
      await h.close();
    }
  });
});
