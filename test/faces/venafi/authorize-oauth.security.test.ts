// POST /vedauth/authorize/oauth — no account oracle, no scope escalation, tokens that belong to
// this face only.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { login } from '../../helpers.ts';
import { authorizeAs, authorizeRequest, bearer, send, venafiHarness, verifyRequest } from './fixtures.ts';

describe('POST /vedauth/authorize/oauth (security)', () => {
  test('an unknown user and a wrong password get the very same answer', async () => {
    const h = await venafiHarness();
    try {
      const base = { client_id: 'vcert-cli', scope: 'certificate:manage' };
      const unknown = await authorizeRequest(h, { ...base, username: 'ghost', password: 'whatever' });
      const wrong = await authorizeRequest(h, { ...base, username: 'walt', password: 'whatever' });
      assert.equal(unknown.statusCode, wrong.statusCode);
      assert.equal(unknown.body, wrong.body);
      // a disabled account shows as such only to someone who knows its password
      const disabledWrong = await authorizeRequest(h, { ...base, username: 'dora', password: 'whatever' });
      assert.equal(disabledWrong.body, wrong.body);
    } finally {
      await h.close();
    }
  });

  test('the password never appears in an answer', async () => {
    const h = await venafiHarness();
    try {
      const secret = 'Sup3r-secret-pw-81c4';
      for (const body of [
        { client_id: 'vcert-cli', username: 'walt', password: secret, scope: 'certificate:manage' },
        { client_id: 'nope', username: 'walt', password: secret, scope: 'certificate:manage' },
        { client_id: 'vcert-cli', username: 'walt', password: secret, scope: ';;' },
        { client_id: 'vcert-cli', username: 5, password: secret },
      ]) {
        const res = await authorizeRequest(h, body);
        assert.ok(!res.body.includes(secret), res.body);
        assert.ok(!String(res.headers['www-authenticate'] ?? '').includes(secret));
      }
    } finally {
      await h.close();
    }
  });

  test('a user never gets a scope or restriction no role of theirs grants', async () => {
    const h = await venafiHarness();
    try {
      // walt's role: certificate:manage,revoke and read:status
      const walt = await authorizeAs(h, 'walt', 'admin-tool', 'admin;certificate:manage,revoke');
      assert.equal(walt.scope, 'certificate:manage,revoke');
      const cora = await authorizeAs(h, 'cora', 'vcert-cli', 'certificate:manage,revoke;ssh:manage');
      assert.equal(cora.scope, 'certificate');
    } finally {
      await h.close();
    }
  });

  test("TPP tokens are not the queue server's tokens, and the other way round", async () => {
    const h = await venafiHarness();
    try {
      const tpp = await authorizeAs(h, 'vera', 'vcert-cli', 'certificate:manage');
      const whoami = await send(h, { method: 'GET', url: '/api/auth/whoami', headers: bearer(tpp.access_token) });
      assert.equal(whoami.statusCode, 401);
      const jwt = await login(h.app, 'vera', 'vera_password');
      assert.equal((await verifyRequest(h, jwt.access_token)).statusCode, 401);
    } finally {
      await h.close();
    }
  });
});
