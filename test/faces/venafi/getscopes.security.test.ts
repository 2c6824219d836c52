// POST /vedsdk/oauth/getscopes — only a TPP token conferring admin reads the catalog.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, login } from '../../helpers.ts';
import { assertOAuthError, authorizeAs, getScopesRequest, GETSCOPES, send, venafiHarness } from './fixtures.ts';

describe('POST /vedsdk/oauth/getscopes (security)', () => {
  test("a queue-server admin's JWT or API key is no TPP token: 401 invalid_token", async () => {
    const h = await venafiHarness();
    try {
      const jwt = await login(h.app, 'bob', 'bob_password');
      assertOAuthError(await getScopesRequest(h, jwt.access_token), 401, 'invalid_token');
      const key = await send(h, { method: 'POST', url: '/api/auth/apikey', headers: { authorization: `Bearer ${jwt.access_token}` }, payload: {} });
      assert.equal(key.statusCode, 200);
      const secret = key.json<{ secret: string }>().secret;
      assertOAuthError(await send(h, { method: 'POST', url: GETSCOPES, headers: apikey(secret), payload: {} }), 401, 'invalid_token');
      assertOAuthError(await getScopesRequest(h, secret), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });

  test('an application that may not request admin never yields an admin token, even for an admin', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'vcert-cli', 'certificate:manage');
      assertOAuthError(await getScopesRequest(h, tokens.access_token), 403, 'insufficient_scope');
    } finally {
      await h.close();
    }
  });

  test('an application that loses the admin scope takes it from its tokens at once', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin;certificate:manage');
      assert.equal((await getScopesRequest(h, tokens.access_token)).statusCode, 200);
      await h.services.bundles.applyText('applications: [{ clientId: admin-tool, scopes: "certificate:manage,revoke" }]', 'change');
      assertOAuthError(await getScopesRequest(h, tokens.access_token), 403, 'insufficient_scope');
    } finally {
      await h.close();
    }
  });
});
