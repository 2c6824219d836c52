// GET /api/auth/principal — every principal, for holders of admin:read:principals.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bearer, createKey, faceHarness, loginAs, PREFIX, SCOPES, send } from './fixtures.ts';

interface Principal {
  uuid: string;
  type: string;
  identities: { id: string }[];
  api_keys: { first_eight: string }[];
  sessions: { uuid: string }[];
  roles: string[];
  scopes: string[];
  api_key_scopes: null | string[];
}

describe('GET /principal (happy)', () => {
  test('lists every principal with roles, scopes, identities, keys and sessions', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const alice = await loginAs(h, 'alice');
      const key = await createKey(h, bearer(alice.access_token));
      const res = await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: bearer(bob.access_token) });
      assert.equal(res.statusCode, 200);
      const list = res.json<Principal[]>();
      const ids = new Map<string, string>();
      for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'nobody']) ids.set((await h.services.users.get(name)).id, name);
      assert.deepEqual(new Set(list.map((p) => ids.get(p.uuid))), new Set(ids.values()));
      const a = list.find((p) => ids.get(p.uuid) === 'alice');
      assert.ok(a);
      assert.equal(a.type, 'user');
      assert.deepEqual(a.roles, ['user']);
      assert.deepEqual(a.scopes, [...SCOPES.user]);
      assert.deepEqual(a.identities.map((i) => i.id), ['alice']);
      assert.deepEqual(a.api_keys.map((k) => k.first_eight), [key.first_eight]);
      assert.equal(a.sessions.length, 1);
      assert.equal(a.api_key_scopes, null);
      const n = list.find((p) => ids.get(p.uuid) === 'nobody');
      assert.deepEqual(n?.roles, []);
      assert.deepEqual(n?.scopes, []);
    } finally {
      await h.close();
    }
  });

  test('limit and after page through the list', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const first = await send(h, { method: 'GET', url: `${PREFIX}/principal?limit=2`, headers: bearer(bob.access_token) });
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json<Principal[]>().length, 2);
      const rest = await send(h, { method: 'GET', url: `${PREFIX}/principal?after=bob`, headers: bearer(bob.access_token) });
      assert.equal(rest.statusCode, 200);
      const names = new Map<string, string>();
      for (const name of ['carol', 'dave', 'erin', 'nobody']) names.set((await h.services.users.get(name)).id, name);
      assert.deepEqual(rest.json<Principal[]>().map((p) => names.get(p.uuid)), ['carol', 'dave', 'erin', 'nobody']);
    } finally {
      await h.close();
    }
  });
});
