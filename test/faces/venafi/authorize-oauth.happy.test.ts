// POST /vedauth/authorize/oauth — a password grant gives the reference's token object.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertFaceHeaders,
  authorizeAs,
  authorizeRequest,
  DEFAULT_ACCESS_TTL,
  DEFAULT_GRANT_TTL,
  grantsOf,
  send,
  uuidOf,
  venafiHarness,
  verifyRequest,
  type TokenJson,
} from './fixtures.ts';

describe('POST /vedauth/authorize/oauth (happy)', () => {
  test("vcert's request gets every field of the reference, with unix-second times", async () => {
    const h = await venafiHarness();
    try {
      const now = Math.floor(h.clock.now() / 1000);
      const res = await authorizeRequest(h, {
        client_id: 'vcert-cli',
        username: 'walt',
        password: 'walt_password',
        scope: 'certificate:manage,revoke',
        state: '',
      });
      assert.equal(res.statusCode, 200, res.body);
      assertFaceHeaders(res);
      const body = res.json<TokenJson>();
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires',
        'expires_in',
        'identity',
        'refresh_token',
        'refresh_until',
        'scope',
        'token_type',
      ]);
      assert.match(body.access_token, /^[A-Za-z0-9+/]{43}=$/, '32 random bytes, base64');
      assert.equal(typeof body.refresh_token, 'string');
      assert.notEqual(body.refresh_token, body.access_token);
      assert.equal(body.expires, now + DEFAULT_ACCESS_TTL);
      assert.equal(body.expires_in, DEFAULT_ACCESS_TTL);
      assert.equal(body.refresh_until, now + DEFAULT_GRANT_TTL);
      assert.equal(body.identity, `local:{${await uuidOf(h, 'walt')}}`);
      assert.equal(body.scope, 'certificate:manage,revoke');
      assert.equal(body.token_type, 'Bearer');
      assert.equal((await verifyRequest(h, body.access_token)).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('the granted scope comes back normalized: scopes and restrictions sorted, duplicates merged', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'vcert-cli', ' ssh:manage;certificate:revoke,manage,revoke; ');
      assert.equal(tokens.scope, 'certificate:manage,revoke;ssh:manage');
    } finally {
      await h.close();
    }
  });

  test("the granted scope is requested ∩ application's ∩ user's", async () => {
    const h = await venafiHarness();
    try {
      // walt holds no ssh scope: only the certificate part is granted
      assert.equal((await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage,revoke;ssh:manage')).scope, 'certificate:manage,revoke');
      // cora holds the base certificate scope only: the restrictions fall away
      assert.equal((await authorizeAs(h, 'cora', 'vcert-cli', 'certificate:manage,revoke')).scope, 'certificate');
      // vera holds admin, but vcert-cli may not request it; admin-tool may
      assert.equal((await authorizeAs(h, 'vera', 'admin-tool', 'admin;certificate:manage')).scope, 'admin;certificate:manage');
      // walt asks admin-tool for admin too: he does not hold it
      assert.equal((await authorizeAs(h, 'walt', 'admin-tool', 'admin;certificate:manage')).scope, 'certificate:manage');
    } finally {
      await h.close();
    }
  });

  test('an application without refresh gives no refresh_token and no refresh_until', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'no-refresh', 'certificate:manage');
      assert.deepEqual(Object.keys(tokens).sort(), ['access_token', 'expires', 'expires_in', 'identity', 'scope', 'token_type']);
      assert.equal(tokens.expires_in, 3600);
    } finally {
      await h.close();
    }
  });

  test("an access token never outlives its grant: the application's grant lifetime caps it", async () => {
    const h = await venafiHarness();
    try {
      const now = Math.floor(h.clock.now() / 1000);
      const tokens = await authorizeAs(h, 'walt', 'capped', 'certificate:manage'); // token 7200 s, grant 3600 s
      assert.equal(tokens.expires_in, 3600);
      assert.equal(tokens.expires, now + 3600);
      assert.equal(tokens.refresh_until, now + 3600);
    } finally {
      await h.close();
    }
  });

  test('each authorization is a grant of its own; earlier ones keep working', async () => {
    const h = await venafiHarness();
    try {
      const first = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const second = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      assert.notEqual(first.access_token, second.access_token);
      assert.notEqual(first.refresh_token, second.refresh_token);
      assert.equal((await grantsOf(h, 'walt')).length, 2);
      assert.equal((await verifyRequest(h, first.access_token)).statusCode, 200);
      assert.equal((await verifyRequest(h, second.access_token)).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('paths in any case (pyVenafi sends Authorize/OAuth); unknown extra parameters are ignored', async () => {
    const h = await venafiHarness();
    try {
      for (const url of ['/vedauth/Authorize/OAuth', '/VEDAUTH/AUTHORIZE/OAUTH', '/VedAuth/authorize/oauth']) {
        const res = await send(h, {
          method: 'POST',
          url,
          payload: { client_id: 'vcert-cli', username: 'walt', password: 'walt_password', scope: 'certificate:manage', redirect_uri: 'x' },
        });
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      }
    } finally {
      await h.close();
    }
  });
});
