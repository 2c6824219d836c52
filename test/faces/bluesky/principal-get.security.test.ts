// GET /api/auth/principal/{uuid} — admin:read:principals only.

import { describe, test } from 'node:test';
import { assertDetail, bearer, credentialChecks, faceHarness, loginAs, notEnough, PREFIX, SCOPES, send, uuidOf } from './fixtures.ts';

describe('GET /principal/{uuid} (security)', () => {
  credentialChecks({
    method: 'GET',
    url: async (h) => `${PREFIX}/principal/${await uuidOf(h, 'alice')}`,
    anonymousDetail: notEnough(['admin:read:principals'], []),
  });

  test('a user cannot read even itself without the scope: 401 with the exact message', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      for (const name of ['alice', 'bob']) {
        const res = await send(h, { method: 'GET', url: `${PREFIX}/principal/${await uuidOf(h, name)}`, headers: bearer(alice.access_token) });
        assertDetail(res, 401, notEnough(['admin:read:principals'], SCOPES.user));
      }
    } finally {
      await h.close();
    }
  });

  test('without the scope an unknown and a known UUID look the same (401 before any lookup)', async () => {
    const h = await faceHarness();
    try {
      const dave = await loginAs(h, 'dave');
      const res = await send(h, { method: 'GET', url: `${PREFIX}/principal/00000000-0000-4000-8000-000000000000`, headers: bearer(dave.access_token) });
      assertDetail(res, 401, notEnough(['admin:read:principals'], SCOPES.viewer));
      const bad = await send(h, { method: 'GET', url: `${PREFIX}/principal/not-a-uuid`, headers: bearer(dave.access_token) });
      assertDetail(bad, 401, notEnough(['admin:read:principals'], SCOPES.viewer));
    } finally {
      await h.close();
    }
  });
});
