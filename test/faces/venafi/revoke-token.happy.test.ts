// GET /vedauth/revoke/token — ends the grant: 200 {}; without any token: 202 {}.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertFaceHeaders, authorizeAs, grantsOf, refreshRequest, REVOKE, revokeRequest, send, venafiHarness, verifyRequest } from './fixtures.ts';

describe('GET /vedauth/revoke/token (happy)', () => {
  test('200 {}: the grant ends, its access and refresh tokens with it', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const res = await revokeRequest(h, tokens.access_token); // Content-Type: application/json, no body (vcert)
      assert.equal(res.statusCode, 200, res.body);
      assertFaceHeaders(res);
      assert.deepEqual(res.json(), {});
      assert.equal((await verifyRequest(h, tokens.access_token)).statusCode, 401);
      assert.equal((await refreshRequest(h, 'vcert-cli', tokens.refresh_token ?? '')).statusCode, 400);
      const [grant] = await grantsOf(h, 'walt');
      assert.equal(grant?.revokedAt, h.clock.now());
    } finally {
      await h.close();
    }
  });

  test('every access token of the grant stops, also those of earlier refreshes', async () => {
    const h = await venafiHarness();
    try {
      const first = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const next = (await refreshRequest(h, 'vcert-cli', first.refresh_token ?? '')).json<{ access_token: string }>();
      assert.equal((await revokeRequest(h, next.access_token)).statusCode, 200);
      assert.equal((await verifyRequest(h, first.access_token)).statusCode, 401);
      assert.equal((await verifyRequest(h, next.access_token)).statusCode, 401);
    } finally {
      await h.close();
    }
  });

  test('only that grant: the same user’s other grants go on', async () => {
    const h = await venafiHarness();
    try {
      const one = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const two = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      assert.equal((await revokeRequest(h, one.access_token)).statusCode, 200);
      assert.equal((await verifyRequest(h, two.access_token)).statusCode, 200);
      assert.equal((await refreshRequest(h, 'vcert-cli', two.refresh_token ?? '')).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('no token at all: 202 {}', async () => {
    const h = await venafiHarness();
    try {
      for (const headers of [{}, { 'content-type': 'application/json' }]) {
        const res = await send(h, { method: 'GET', url: REVOKE, headers });
        assert.equal(res.statusCode, 202, res.body);
        assertFaceHeaders(res);
        assert.deepEqual(res.json(), {});
      }
    } finally {
      await h.close();
    }
  });

  test('any path case', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      const res = await send(h, { method: 'GET', url: '/VedAuth/Revoke/Token', headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(res.statusCode, 200, res.body);
    } finally {
      await h.close();
    }
  });
});
