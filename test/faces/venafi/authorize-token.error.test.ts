// POST /vedauth/authorize/token — refused refreshes: 400 invalid_grant for a refresh token that
// leads nowhere (unknown, dead grant, another client's), invalid_client, invalid_request.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertOAuthError,
  authorizeAs,
  JSON_TYPE,
  refreshRequest,
  send,
  TOKEN,
  venafiHarness,
} from './fixtures.ts';

describe('POST /vedauth/authorize/token (errors)', () => {
  test('an unknown refresh token: 400 invalid_grant', async () => {
    const h = await venafiHarness();
    try {
      assertOAuthError(await refreshRequest(h, 'vcert-cli', 'x'.repeat(43)), 400, 'invalid_grant');
    } finally {
      await h.close();
    }
  });

  test('an unknown client_id: 400 invalid_client, and the refresh token is not spent', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      assertOAuthError(await refreshRequest(h, 'no-such-client', tokens.refresh_token ?? ''), 400, 'invalid_client');
      assert.equal((await refreshRequest(h, 'vcert-cli', tokens.refresh_token ?? '')).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test("another client's refresh token: 400 invalid_grant, and it is not spent", async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      assertOAuthError(await refreshRequest(h, 'admin-tool', tokens.refresh_token ?? ''), 400, 'invalid_grant');
      assert.equal((await refreshRequest(h, 'vcert-cli', tokens.refresh_token ?? '')).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('a grant past its end: 400 invalid_grant', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'short', 'certificate:manage'); // grant 3600 s
      h.clock.advance(3600 * 1000);
      assertOAuthError(await refreshRequest(h, 'short', tokens.refresh_token ?? ''), 400, 'invalid_grant');
    } finally {
      await h.close();
    }
  });

  test('an application that no longer allows refresh: 400 invalid_grant', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const app = await h.services.store.getApplication('vcert-cli');
      assert.ok(app);
      await h.services.store.putApplication({ ...app, allowRefresh: false });
      assertOAuthError(await refreshRequest(h, 'vcert-cli', tokens.refresh_token ?? ''), 400, 'invalid_grant');
    } finally {
      await h.close();
    }
  });

  test('a user who no longer holds any of the granted scope: 401 insufficient_rights', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      await h.services.users.setRoles('walt', ['observer']);
      assertOAuthError(await refreshRequest(h, 'vcert-cli', tokens.refresh_token ?? ''), 401, 'insufficient_rights');
    } finally {
      await h.close();
    }
  });

  test('missing or wrongly typed parameters, malformed JSON, no body: 400 invalid_request', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const post = (payload: string) => send(h, { method: 'POST', url: TOKEN, headers: JSON_TYPE, payload });
      for (const payload of [
        JSON.stringify({ client_id: 'vcert-cli' }),
        JSON.stringify({ refresh_token: tokens.refresh_token }),
        JSON.stringify({ client_id: 'vcert-cli', refresh_token: 42 }),
        JSON.stringify({ client_id: ['vcert-cli'], refresh_token: tokens.refresh_token }),
        JSON.stringify({ client_id: 'vcert-cli', refresh_token: '' }),
        '{"client_id": "vcert-cli", "refresh_token": ',
        '[]',
        '',
      ]) {
        assertOAuthError(await post(payload), 400, 'invalid_request');
      }
      assertOAuthError(await send(h, { method: 'POST', url: TOKEN }), 400, 'invalid_request');
      // none of it spent the token
      assert.equal((await refreshRequest(h, 'vcert-cli', tokens.refresh_token ?? '')).statusCode, 200);
    } finally {
      await h.close();
    }
  });
});
