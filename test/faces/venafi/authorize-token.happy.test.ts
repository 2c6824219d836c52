// POST /vedauth/authorize/token — a refresh gives a new access token AND a new refresh token;
// refresh_until does not move.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertFaceHeaders,
  authorizeAs,
  DEFAULT_ACCESS_TTL,
  grantsOf,
  refreshRequest,
  send,
  venafiHarness,
  verifyRequest,
  type TokenJson,
  type VerifyJson,
} from './fixtures.ts';

describe('POST /vedauth/authorize/token (happy)', () => {
  test('both tokens rotate; expires moves on; refresh_until, identity and scope stay', async () => {
    const h = await venafiHarness();
    try {
      const first = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage,revoke');
      h.clock.advance(86400 * 1000);
      const res = await refreshRequest(h, 'vcert-cli', first.refresh_token ?? '');
      assert.equal(res.statusCode, 200, res.body);
      assertFaceHeaders(res);
      const next = res.json<TokenJson>();
      assert.deepEqual(Object.keys(next).sort(), Object.keys(first).sort());
      assert.notEqual(next.access_token, first.access_token);
      assert.notEqual(next.refresh_token, first.refresh_token);
      assert.equal(next.refresh_until, first.refresh_until, 'refresh_until is unchanged');
      assert.equal(next.expires, first.expires + 86400);
      assert.equal(next.expires_in, DEFAULT_ACCESS_TTL);
      assert.equal(next.identity, first.identity);
      assert.equal(next.scope, first.scope);
      assert.equal(next.token_type, 'Bearer');
      const verified = await verifyRequest(h, next.access_token);
      assert.equal(verified.statusCode, 200);
      assert.equal(verified.json<VerifyJson>().access_issued_on_unix_time, Math.floor(h.clock.now() / 1000));
      assert.equal((await grantsOf(h, 'walt')).length, 1, 'a refresh makes no new grant');
    } finally {
      await h.close();
    }
  });

  test('a chain of refreshes keeps working, each refresh token once', async () => {
    const h = await venafiHarness();
    try {
      let tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      for (let i = 0; i < 5; i++) {
        h.clock.advance(60_000);
        const res = await refreshRequest(h, 'admin-tool', tokens.refresh_token ?? '');
        assert.equal(res.statusCode, 200, `refresh #${i + 1}: ${res.body}`);
        tokens = res.json<TokenJson>();
      }
      await h.services.sessionActivity.flush(); // refresh counters are written in batches
      const [grant] = await grantsOf(h, 'vera');
      assert.equal(grant?.refreshCount, 5);
      assert.equal(grant?.revokedAt, null);
    } finally {
      await h.close();
    }
  });

  test('near the end of the grant, the new access token ends with the grant', async () => {
    const h = await venafiHarness();
    try {
      const first = await authorizeAs(h, 'walt', 'short', 'certificate:manage'); // token 600 s, grant 3600 s
      h.clock.advance(3300 * 1000);
      const res = await refreshRequest(h, 'short', first.refresh_token ?? '');
      assert.equal(res.statusCode, 200, res.body);
      const next = res.json<TokenJson>();
      assert.equal(next.expires_in, 300);
      assert.equal(next.expires, first.refresh_until);
      assert.equal(next.refresh_until, first.refresh_until);
    } finally {
      await h.close();
    }
  });

  test('the token endpoint answers in any path case', async () => {
    const h = await venafiHarness();
    try {
      const first = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const res = await send(h, {
        method: 'POST',
        url: '/vedauth/Authorize/Token',
        payload: { client_id: 'vcert-cli', refresh_token: first.refresh_token },
      });
      assert.equal(res.statusCode, 200, res.body);
    } finally {
      await h.close();
    }
  });
});
