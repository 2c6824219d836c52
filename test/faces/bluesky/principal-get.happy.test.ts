// GET /api/auth/principal/{uuid} — one principal.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bearer, faceHarness, loginAs, PREFIX, SCOPES, send, sessionIdOf } from './fixtures.ts';

describe('GET /principal/{uuid} (happy)', () => {
  test('describes the principal', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const alice = await loginAs(h, 'alice');
      const id = (await h.services.users.get('alice')).id;
      const res = await send(h, { method: 'GET', url: `${PREFIX}/principal/${id}`, headers: bearer(bob.access_token) });
      assert.equal(res.statusCode, 200);
      const p = res.json<{ uuid: string; type: string; roles: string[]; scopes: string[]; sessions: { uuid: string }[]; identities: { id: string; provider: string }[]; api_key_scopes: unknown }>();
      assert.equal(p.uuid, id);
      assert.equal(p.type, 'user');
      assert.deepEqual(p.roles, ['user']);
      assert.deepEqual(p.scopes, [...SCOPES.user]);
      assert.deepEqual(p.sessions.map((s) => s.uuid), [sessionIdOf(alice.access_token)]);
      assert.deepEqual(p.identities.map((i) => [i.id, i.provider]), [['alice', 'local']]);
      assert.equal(p.api_key_scopes, null);
    } finally {
      await h.close();
    }
  });

  test('the UUID is accepted without dashes and in upper case, as Python parses it', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const id = (await h.services.users.get('carol')).id;
      for (const form of [id.replace(/-/g, ''), id.toUpperCase()]) {
        const res = await send(h, { method: 'GET', url: `${PREFIX}/principal/${form}`, headers: bearer(bob.access_token) });
        assert.equal(res.statusCode, 200, form);
        assert.equal(res.json<{ uuid: string }>().uuid, id);
      }
    } finally {
      await h.close();
    }
  });

  test('an admin can read itself', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const id = (await h.services.users.get('bob')).id;
      const res = await send(h, { method: 'GET', url: `${PREFIX}/principal/${id}`, headers: bearer(bob.access_token) });
      assert.deepEqual(res.json<{ roles: string[] }>().roles, ['admin', 'expert']);
    } finally {
      await h.close();
    }
  });
});
