// POST /vedsdk/oauth/getscopes — every error case of the seed: 400 invalid_request, 401
// invalid_token (missing, expired, revoked, malformed), 401 insufficient_rights, 403
// insufficient_scope; each with `{"error", "error_description"}` and its challenge.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertOAuthError, authorizeAs, bearer, getScopesRequest, GETSCOPES, revokeRequest, send, venafiHarness } from './fixtures.ts';

describe('POST /vedsdk/oauth/getscopes (errors)', () => {
  test('400 invalid_request: malformed JSON, or a body that is not an object', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      for (const payload of ['{', '{"a": }', '[]', '5', '"text"', 'null', 'true']) {
        assertOAuthError(await getScopesRequest(h, tokens.access_token, payload), 400, 'invalid_request');
      }
      const form = await send(h, {
        method: 'POST',
        url: GETSCOPES,
        headers: { ...bearer(tokens.access_token), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'a=b',
      });
      assertOAuthError(form, 400, 'invalid_request');
    } finally {
      await h.close();
    }
  });

  test('401 invalid_token: the token is missing', async () => {
    const h = await venafiHarness();
    try {
      const res = await send(h, { method: 'POST', url: GETSCOPES, headers: { 'content-type': 'application/json' }, payload: '{}' });
      assertOAuthError(res, 401, 'invalid_token');
      assert.match(String(res.headers['www-authenticate']), /^Bearer error="invalid_token"/);
    } finally {
      await h.close();
    }
  });

  test('401 invalid_token: the token is expired', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'short', 'admin'); // token 600 s
      h.clock.advance(600 * 1000);
      assertOAuthError(await getScopesRequest(h, tokens.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });

  test('401 invalid_token: the token is revoked', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      assert.equal((await revokeRequest(h, tokens.access_token)).statusCode, 200);
      assertOAuthError(await getScopesRequest(h, tokens.access_token), 401, 'invalid_token');
    } finally {
      await h.close();
    }
  });

  test('401 invalid_token: the token is malformed or unknown', async () => {
    const h = await venafiHarness();
    try {
      for (const token of ['4MyGeneratedBearerTknz==', 'not a token', '']) {
        assertOAuthError(await getScopesRequest(h, token), 401, 'invalid_token');
      }
    } finally {
      await h.close();
    }
  });

  test('401 insufficient_rights: the account behind the token no longer has the rights', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      await h.services.users.setRoles('vera', ['observer']);
      const res = await getScopesRequest(h, tokens.access_token);
      assertOAuthError(res, 401, 'insufficient_rights');
      assert.match(String(res.headers['www-authenticate']), /^Bearer error="insufficient_rights"/);
    } finally {
      await h.close();
    }
  });

  test('403 insufficient_scope: a token without the admin scope', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'vcert-cli', 'certificate:manage,revoke;ssh:manage');
      const res = await getScopesRequest(h, tokens.access_token);
      assertOAuthError(res, 403, 'insufficient_scope');
      assert.match(String(res.headers['www-authenticate']), /^Bearer error="insufficient_scope", error_description="[^"]+", scope="admin"$/);
      // an admin who asked for less gets no more
      const narrow = await authorizeAs(h, 'vera', 'admin-tool', 'certificate:manage');
      assertOAuthError(await getScopesRequest(h, narrow.access_token), 403, 'insufficient_scope');
    } finally {
      await h.close();
    }
  });

  test('403 insufficient_scope: the admin scope was taken from the user after the token was issued', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin;certificate:manage');
      await h.services.users.setRoles('vera', ['cert-manager']);
      assertOAuthError(await getScopesRequest(h, tokens.access_token), 403, 'insufficient_scope');
    } finally {
      await h.close();
    }
  });
});
