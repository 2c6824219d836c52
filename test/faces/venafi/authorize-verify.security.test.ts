// GET /vedauth/authorize/verify — only this server's live TPP access tokens verify.

import { describe, test } from 'node:test';
import { login } from '../../helpers.ts';
import { assertOAuthError, authorizeAs, venafiHarness, verifyRequest } from './fixtures.ts';

describe('GET /vedauth/authorize/verify (security)', () => {
  test('a token of another server: 401 invalid_token', async () => {
    const h = await venafiHarness();
    const other = await venafiHarness();
    try {
      const foreign = await authorizeAs(other, 'walt', 'vcert-cli', 'certificate:manage');
      assertOAuthError(await verifyRequest(h, foreign.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
      await other.close();
    }
  });

  test('a queue-server access token (a JWT of the same server): 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      const jwt = await login(h.app, 'vera', 'vera_password');
      assertOAuthError(await verifyRequest(h, jwt.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });

  test('a token changed by one character, or in another case: 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const t = tokens.access_token;
      const flipped = `${t.slice(0, 5)}${t[5] === 'A' ? 'B' : 'A'}${t.slice(6)}`;
      for (const bad of [flipped, t.toLowerCase(), `${t}x`, t.slice(0, -1)]) {
        assertOAuthError(await verifyRequest(h, bad), 401, 'invalid_token');
      }
    } finally {
      await h.close();
    }
  });

  test('a removed application or a removed user takes its tokens with it: 401 invalid_token', async () => {
    const h = await venafiHarness();
    try {
      const a = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      await h.services.applications.remove('vcert-cli');
      assertOAuthError(await verifyRequest(h, a.access_token), 401, 'invalid_token');
      const b = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      await h.services.users.remove('vera');
      assertOAuthError(await verifyRequest(h, b.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });
});
