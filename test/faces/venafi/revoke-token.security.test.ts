// GET /vedauth/revoke/token — a revoked grant's tokens are refused everywhere; nobody revokes
// another's grant; other kinds of token revoke nothing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { login } from '../../helpers.ts';
import {
  assertOAuthError,
  authorizeAs,
  bearer,
  getScopesRequest,
  grantsOf,
  refreshRequest,
  revokeRequest,
  send,
  venafiHarness,
  verifyRequest,
} from './fixtures.ts';

describe('GET /vedauth/revoke/token (security)', () => {
  test("a revoked grant's access token gets 401 and its refresh token 400, on every route", async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      assert.equal((await getScopesRequest(h, tokens.access_token)).statusCode, 200);
      assert.equal((await revokeRequest(h, tokens.access_token)).statusCode, 200);
      assertOAuthError(await verifyRequest(h, tokens.access_token), 401, 'invalid_token');
      assertOAuthError(await getScopesRequest(h, tokens.access_token), 401, 'invalid_token');
      assertOAuthError(await revokeRequest(h, tokens.access_token), 401, 'invalid_token');
      assertOAuthError(await refreshRequest(h, 'admin-tool', tokens.refresh_token ?? ''), 400, 'invalid_grant');
    } finally {
      await h.close();
    }
  });

  test("one user's revocation leaves another user's grant alone", async () => {
    const h = await venafiHarness();
    try {
      const walt = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const vera = await authorizeAs(h, 'vera', 'vcert-cli', 'certificate:manage');
      assert.equal((await revokeRequest(h, walt.access_token)).statusCode, 200);
      assert.equal((await verifyRequest(h, vera.access_token)).statusCode, 200);
      assert.equal((await grantsOf(h, 'vera'))[0]?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('a queue-server access token or a refresh token revokes nothing: 401', async () => {
    const h = await venafiHarness();
    try {
      const jwt = await login(h.app, 'vera', 'vera_password');
      const tpp = await authorizeAs(h, 'vera', 'vcert-cli', 'certificate:manage');
      assertOAuthError(await revokeRequest(h, jwt.access_token), 401, 'invalid_token');
      assertOAuthError(await revokeRequest(h, tpp.refresh_token ?? ''), 401, 'invalid_token');
      assert.equal((await verifyRequest(h, tpp.access_token)).statusCode, 200);
      const whoami = await send(h, { method: 'GET', url: '/api/auth/whoami', headers: bearer(jwt.access_token) });
      assert.equal(whoami.statusCode, 200);
    } finally {
      await h.close();
    }
  });
});
