// GET /vedauth/revoke/token — a token that does not stand for a live grant: 401 invalid_token.

import { describe, test } from 'node:test';
import { assertOAuthError, authorizeAs, REVOKE, revokeRequest, send, venafiHarness } from './fixtures.ts';

describe('GET /vedauth/revoke/token (errors)', () => {
  test('a malformed or unknown token, another scheme, an empty bearer: 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      for (const authorization of ['Bearer garbage', 'Bearer ', `Basic ${Buffer.from('walt:walt_password').toString('base64')}`]) {
        assertOAuthError(await send(h, { method: 'GET', url: REVOKE, headers: { authorization } }), 401, 'invalid_token');
      }
    } finally {
      await h.close();
    }
  });

  test('revoking twice: the second time 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      await revokeRequest(h, tokens.access_token);
      assertOAuthError(await revokeRequest(h, tokens.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });

  test('an expired access token: 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'short', 'certificate:manage');
      h.clock.advance(600 * 1000);
      assertOAuthError(await revokeRequest(h, tokens.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });
});
