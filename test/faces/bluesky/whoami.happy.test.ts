// GET /api/auth/whoami — the calling principal.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apikey, bearer, createKey, faceHarness, loginAs, PREFIX, SCOPES, send, sessionIdOf } from './fixtures.ts';

interface Principal {
  uuid: string;
  type: string;
  identities: { id: string; provider: string; latest_login: string | null }[];
  api_keys: { first_eight: string; expiration_time: string | null; note: string | null; scopes: string[]; latest_activity: string | null }[];
  sessions: { uuid: string; expiration_time: string; revoked: boolean }[];
  latest_activity: string | null;
  roles: string[];
  scopes: string[];
  api_key_scopes: string[] | null;
}

describe('GET /whoami (happy)', () => {
  test('with a token: the principal, its identity, keys and live sessions, roles and scopes', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const key = await createKey(h, bearer(alice.access_token), { note: 'k', scopes: ['read:status'] });
      h.clock.advance(60_000);
      const res = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(alice.access_token) });
      assert.equal(res.statusCode, 200);
      const p = res.json<Principal>();
      assert.deepEqual(Object.keys(p).sort(), ['api_key_scopes', 'api_keys', 'identities', 'latest_activity', 'roles', 'scopes', 'sessions', 'type', 'uuid']);
      assert.equal(p.uuid, (await h.services.users.get('alice')).id);
      assert.equal(p.type, 'user');
      assert.deepEqual(p.identities, [{ id: 'alice', provider: 'local', latest_login: '2026-11-23T12:00:00' }]);
      assert.deepEqual(p.api_keys, [{ first_eight: key.first_eight, expiration_time: null, note: 'k', scopes: ['read:status'], latest_activity: null }]);
      assert.deepEqual(p.sessions, [{ uuid: sessionIdOf(alice.access_token), expiration_time: '2027-11-23T12:00:00', revoked: false }]);
      assert.equal(p.latest_activity, '2026-11-23T12:00:00');
      assert.deepEqual(p.roles, ['user']);
      assert.deepEqual(p.scopes, [...SCOPES.user]);
      assert.equal(p.api_key_scopes, null);
    } finally {
      await h.close();
    }
  });

  test('a refresh moves latest_activity at once, before its counters are written', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      h.clock.advance(90_000);
      const res = await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: alice.refresh_token } });
      assert.equal(res.statusCode, 200);
      const token = res.json<{ access_token: string }>().access_token;
      h.clock.advance(10_000);
      const before = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(token) });
      assert.equal(before.json<Principal>().latest_activity, '2026-11-23T12:01:30');
      await h.services.sessionActivity.flush();
      const after = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(token) });
      assert.equal(after.json<Principal>().latest_activity, '2026-11-23T12:01:30', 'the same once written');
    } finally {
      await h.close();
    }
  });

  test('with an API key: the owner, the key effective scopes, and the key stored scopes', async () => {
    const h = await faceHarness();
    try {
      const bob = await loginAs(h, 'bob');
      const key = await createKey(h, bearer(bob.access_token), { scopes: ['read:status', 'read:queue'] });
      const res = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: apikey(key.secret) });
      assert.equal(res.statusCode, 200);
      const p = res.json<Principal>();
      assert.equal(p.uuid, (await h.services.users.get('bob')).id);
      assert.deepEqual(p.roles, ['admin', 'expert']);
      assert.deepEqual(p.scopes, ['read:queue', 'read:status']);
      assert.deepEqual(p.api_key_scopes, ['read:queue', 'read:status']);
      assert.equal(p.api_keys[0]?.latest_activity, '2026-11-23T12:00:00', 'this very use is recorded');
    } finally {
      await h.close();
    }
  });

  test('an inheriting key reports ["inherit"] as its stored scopes and the owner scopes as effective', async () => {
    const h = await faceHarness();
    try {
      const carol = await loginAs(h, 'carol');
      const key = await createKey(h, bearer(carol.access_token));
      const p = (await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: apikey(key.secret) })).json<Principal>();
      assert.deepEqual(p.api_key_scopes, ['inherit']);
      assert.deepEqual(p.scopes, [...SCOPES.observer]);
    } finally {
      await h.close();
    }
  });

  test('sessions ended by logout are not listed', async () => {
    const h = await faceHarness();
    try {
      const a = await loginAs(h, 'bob');
      const b = await loginAs(h, 'bob');
      await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(a.access_token) });
      const p = (await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(b.access_token) })).json<Principal>();
      assert.deepEqual(p.sessions.map((s) => s.uuid), [sessionIdOf(b.access_token)]);
    } finally {
      await h.close();
    }
  });
});
