// The database gone: every route answers 503 in this face's format, never a 500.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTHORIZE, authorizeAs, bearer, GETSCOPES, REVOKE, send, TOKEN, venafiHarness, VERIFY } from './fixtures.ts';

describe('the Venafi face without its database', () => {
  test('503 temporarily_unavailable with Retry-After on every route', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      await h.services.store.close();
      for (const [method, url, payload] of [
        ['POST', AUTHORIZE, { client_id: 'admin-tool', username: 'vera', password: 'vera_password', scope: 'admin' }],
        ['POST', TOKEN, { client_id: 'admin-tool', refresh_token: tokens.refresh_token }],
        ['GET', VERIFY, undefined],
        ['GET', REVOKE, undefined],
        ['POST', GETSCOPES, {}],
      ] as const) {
        const res = await send(h, { method, url, headers: bearer(tokens.access_token), ...(payload ? { payload } : {}) });
        assert.equal(res.statusCode, 503, `${method} ${url}: ${res.body}`);
        assert.equal(res.headers['retry-after'], '1');
        assert.deepEqual(res.json(), { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable' });
      }
    } finally {
      await h.close();
    }
  });
});
