// POST /vedauth/authorize/token — refresh tokens are strictly single use as in TPP (any second
// presentation, even at once, revokes the grant: no window for concurrent refreshes), bound to
// their client and to this face.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { login } from '../../helpers.ts';
import {
  assertOAuthError,
  authorizeAs,
  bearer,
  grantsOf,
  refreshRequest,
  revokeRequest,
  send,
  venafiHarness,
  verifyRequest,
  type TokenJson,
} from './fixtures.ts';

describe('POST /vedauth/authorize/token (security)', () => {
  test('the old refresh token is refused right after a refresh, and the reuse revokes the whole grant', async () => {
    const h = await venafiHarness();
    try {
      const first = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const rotated = await refreshRequest(h, 'vcert-cli', first.refresh_token ?? '');
      assert.equal(rotated.statusCode, 200);
      const second = rotated.json<TokenJson>();
      // no time passes: the queue server's window for concurrent refreshes does not apply here
      assertOAuthError(await refreshRequest(h, 'vcert-cli', first.refresh_token ?? ''), 400, 'invalid_grant');
      // the legitimately rotated tokens die with the grant
      assertOAuthError(await refreshRequest(h, 'vcert-cli', second.refresh_token ?? ''), 400, 'invalid_grant');
      assertOAuthError(await verifyRequest(h, second.access_token), 401, 'invalid_token');
      assertOAuthError(await verifyRequest(h, first.access_token), 401, 'invalid_token');
      const [grant] = await grantsOf(h, 'walt');
      assert.notEqual(grant?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('two refreshes at once with the same token: one answers 200, the other 400, and the grant is revoked', async () => {
    const h = await venafiHarness();
    try {
      const first = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const results = await Promise.all([
        refreshRequest(h, 'vcert-cli', first.refresh_token ?? ''),
        refreshRequest(h, 'vcert-cli', first.refresh_token ?? ''),
      ]);
      assert.deepEqual(
        results.map((r) => r.statusCode).sort(),
        [200, 400],
      );
      const refused = results.find((r) => r.statusCode === 400);
      assert.ok(refused);
      assertOAuthError(refused, 400, 'invalid_grant');
      const winner = results.find((r) => r.statusCode === 200)?.json<TokenJson>();
      assert.ok(winner);
      assertOAuthError(await verifyRequest(h, winner.access_token), 401, 'invalid_token');
      assertOAuthError(await refreshRequest(h, 'vcert-cli', winner.refresh_token ?? ''), 400, 'invalid_grant');
      const [grant] = await grantsOf(h, 'walt');
      assert.notEqual(grant?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('refreshReuseGrace (the queue server\'s window) does not loosen TPP refresh tokens', async () => {
    const h = await venafiHarness({ refreshReuseGrace: 300 });
    try {
      const first = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      assert.equal((await refreshRequest(h, 'vcert-cli', first.refresh_token ?? '')).statusCode, 200);
      h.clock.advance(1000);
      assertOAuthError(await refreshRequest(h, 'vcert-cli', first.refresh_token ?? ''), 400, 'invalid_grant');
      const [grant] = await grantsOf(h, 'walt');
      assert.notEqual(grant?.revokedAt, null);
      // the queue server's refresh tokens keep their window
      const queue = await login(h.app, 'walt', 'walt_password');
      const refresh = () => send(h, { method: 'POST', url: '/api/auth/session/refresh', payload: { refresh_token: queue.refresh_token } });
      assert.equal((await refresh()).statusCode, 200);
      h.clock.advance(1000);
      assert.equal((await refresh()).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test("a revoked grant's refresh token: 400 invalid_grant", async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      assert.equal((await revokeRequest(h, tokens.access_token)).statusCode, 200);
      assertOAuthError(await refreshRequest(h, 'vcert-cli', tokens.refresh_token ?? ''), 400, 'invalid_grant');
    } finally {
      await h.close();
    }
  });

  test('an access token is not a refresh token, and a refresh token is not an access token', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      assertOAuthError(await refreshRequest(h, 'vcert-cli', tokens.access_token), 400, 'invalid_grant');
      assertOAuthError(await verifyRequest(h, tokens.refresh_token ?? ''), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });

  test("the queue server's refresh tokens and the TPP ones each work at their own endpoint only", async () => {
    const h = await venafiHarness();
    try {
      const queue = await login(h.app, 'vera', 'vera_password');
      const tpp = await authorizeAs(h, 'vera', 'vcert-cli', 'certificate:manage');
      // a queue-server refresh token at the TPP endpoint
      assertOAuthError(await refreshRequest(h, 'vcert-cli', queue.refresh_token), 400, 'invalid_grant');
      // a TPP refresh token at the queue server's endpoint
      const refused = await send(h, { method: 'POST', url: '/api/auth/session/refresh', payload: { refresh_token: tpp.refresh_token } });
      assert.equal(refused.statusCode, 401, refused.body);
      // neither was spent nor revoked by the refusal
      const ok = await send(h, { method: 'POST', url: '/api/auth/session/refresh', payload: { refresh_token: queue.refresh_token } });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal((await refreshRequest(h, 'vcert-cli', tpp.refresh_token ?? '')).statusCode, 200);
      const whoami = await send(h, { method: 'GET', url: '/api/auth/whoami', headers: bearer(ok.json<{ access_token: string }>().access_token) });
      assert.equal(whoami.statusCode, 200);
    } finally {
      await h.close();
    }
  });
});
