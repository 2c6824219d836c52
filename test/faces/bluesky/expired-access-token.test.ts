// The expired-token answer is a contract: the Python client refreshes its session when an
// error's text contains "401: Access token has expired" (it formats errors as
// "<status>: <detail> <url>"). Time comes from the harness clock, never from waiting.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, bearer, createKey, faceHarness, loginAs, PREFIX, send, type Tokens } from './fixtures.ts';

const EXPECTED = 'Access token has expired. Refresh token.';

/** What bluesky-queueserver-api raises for a 4xx: f"{status}: {detail} {url}". */
function clientErrorText(status: number, body: { detail: unknown }, url: string): string {
  return `${status}: ${String(body.detail)} ${url}`;
}

describe('expired access token', () => {
  test('valid at 899 s, expired after 900 s with the exact message and a Bearer challenge', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'bob');
      h.clock.advance(899_000);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(tokens.access_token) })).statusCode, 200);
      h.clock.advance(2_000);
      const res = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(tokens.access_token) });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { detail: EXPECTED });
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    } finally {
      await h.close();
    }
  });

  test("the Python client's auto-refresh trigger matches, and only for this error", async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'alice');
      h.clock.advance(901_000);
      const url = `${PREFIX}/scopes`;
      const res = await send(h, { method: 'GET', url, headers: bearer(tokens.access_token) });
      const body = res.json<{ detail: string }>();
      assert.equal(res.statusCode, 401);
      assert.ok(body.detail.startsWith('Access token has expired'));
      assert.ok(clientErrorText(res.statusCode, body, `http://localhost:60610${url}`).includes('401: Access token has expired'));

      // other 401s must not trigger a refresh loop
      const garbage = await send(h, { method: 'GET', url, headers: bearer('garbage') });
      assert.ok(!clientErrorText(garbage.statusCode, garbage.json(), url).includes('401: Access token has expired'));
    } finally {
      await h.close();
    }
  });

  test('after the auto-refresh the request goes through', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'carol');
      h.clock.advance(3600_000);
      const url = `${PREFIX}/whoami`;
      const first = await send(h, { method: 'GET', url, headers: bearer(tokens.access_token) });
      assert.equal(first.json<{ detail: string }>().detail, EXPECTED);
      const refreshed = await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: tokens.refresh_token } });
      const next = refreshed.json<Tokens>();
      assert.equal((await send(h, { method: 'GET', url, headers: bearer(next.access_token) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('the expiry wins over a revoked session (the client can tell it must refresh)', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'bob');
      await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(tokens.access_token) });
      h.clock.advance(901_000);
      const res = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(tokens.access_token) });
      assert.deepEqual(res.json(), { detail: EXPECTED });
    } finally {
      await h.close();
    }
  });

  test('API keys do not expire with the access token lifetime', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(tokens.access_token));
      h.clock.advance(30 * 86400 * 1000);
      assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(key.secret) })).statusCode, 200);
    } finally {
      await h.close();
    }
  });
});
