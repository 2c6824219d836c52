// GET /vedauth/authorize/verify — 401 invalid_token (missing, malformed, expired, revoked) with
// its WWW-Authenticate challenge; 401 insufficient_rights for an account without rights.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertOAuthError, authorizeAs, send, venafiHarness, VERIFY, verifyRequest } from './fixtures.ts';

describe('GET /vedauth/authorize/verify (errors)', () => {
  test('no token: 401 invalid_token with the challenge', async () => {
    const h = await venafiHarness();
    try {
      const res = await send(h, { method: 'GET', url: VERIFY, headers: { 'content-type': 'application/json' } });
      assertOAuthError(res, 401, 'invalid_token');
      assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token", error_description="[^"]+"$/);
    } finally {
      await h.close();
    }
  });

  test('a malformed or unknown token, another scheme, an empty bearer: 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      for (const authorization of [
        'Bearer garbage',
        `Bearer ${'A'.repeat(43)}=`,
        'Bearer ',
        'Bearer',
        `Bearer ${'t'.repeat(5000)}`,
        `Basic ${Buffer.from('walt:walt_password').toString('base64')}`,
        'Apikey abc',
      ]) {
        assertOAuthError(await send(h, { method: 'GET', url: VERIFY, headers: { authorization } }), 401, 'invalid_token');
      }
    } finally {
      await h.close();
    }
  });

  test('an expired access token: 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'short', 'certificate:manage'); // token 600 s
      h.clock.advance(599 * 1000);
      assert.equal((await verifyRequest(h, tokens.access_token)).statusCode, 200);
      h.clock.advance(1000);
      assertOAuthError(await verifyRequest(h, tokens.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });

  test('a revoked grant, or a user disabled (which ends the grants): 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      const a = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const [grant] = (await h.services.store.listSessions((await h.services.users.get('walt')).id)).filter((s) => s.clientId);
      assert.ok(grant);
      await h.services.store.revokeSession(grant.id, h.clock.now());
      assertOAuthError(await verifyRequest(h, a.access_token), 401, 'invalid_token');
      const b = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      await h.services.users.setDisabled('walt', true);
      assertOAuthError(await verifyRequest(h, b.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });

  test('an account that lost every granted scope, or was disabled behind the grants’ back: 401 insufficient_rights', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      await h.services.users.setRoles('walt', ['observer']);
      assertOAuthError(await verifyRequest(h, tokens.access_token), 401, 'insufficient_rights');
      await h.services.users.setRoles('walt', ['cert-manager']);
      assert.equal((await verifyRequest(h, tokens.access_token)).statusCode, 200);
      const walt = await h.services.users.get('walt');
      await h.services.store.updatePrincipal(walt.id, { disabled: true, updatedAt: h.clock.now() });
      assertOAuthError(await verifyRequest(h, tokens.access_token), 401, 'insufficient_rights');
    } finally {
      await h.close();
    }
  });
});
