// GET /api/auth/scopes — roles and the exact scopes this request holds.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { harness } from '../../helpers.ts';
import { apikey, bearer, createKey, faceHarness, loginAs, PREFIX, SCOPES, scopesOf, send } from './fixtures.ts';

describe('GET /scopes (happy)', () => {
  test('with a token: the user roles and the union of their scopes, sorted', async () => {
    const h = await faceHarness();
    try {
      assert.deepEqual(await scopesOf(h, bearer((await loginAs(h, 'alice')).access_token)), { roles: ['user'], scopes: [...SCOPES.user] });
      assert.deepEqual(await scopesOf(h, bearer((await loginAs(h, 'carol')).access_token)), { roles: ['observer'], scopes: [...SCOPES.observer] });
      assert.deepEqual(await scopesOf(h, bearer((await loginAs(h, 'dave')).access_token)), { roles: ['viewer'], scopes: ['read:status'] });
    } finally {
      await h.close();
    }
  });

  test('with an API key: the key effective scopes and the owner roles', async () => {
    const h = await faceHarness();
    try {
      const alice = await loginAs(h, 'alice');
      const key = await createKey(h, bearer(alice.access_token), { scopes: ['write:queue:edit', 'read:queue'] });
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['user'], scopes: ['read:queue', 'write:queue:edit'] });
      const inheriting = await createKey(h, bearer(alice.access_token));
      assert.deepEqual(await scopesOf(h, { cookie: `bluesky_httpserver_api_key=${inheriting.secret}` }), { roles: ['user'], scopes: [...SCOPES.user] });
    } finally {
      await h.close();
    }
  });

  test('without credentials: 200 {"roles": [], "scopes": []}', async () => {
    const h = await faceHarness();
    try {
      const res = await send(h, { method: 'GET', url: `${PREFIX}/scopes` });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { roles: [], scopes: [] });
    } finally {
      await h.close();
    }
  });

  test('without credentials, a configured public role gives its scopes', async () => {
    const h = await harness({
      bundle: 'roles:\n  - { name: unauthenticated_public, scopes: [read:status, read:queue] }\n',
    });
    try {
      assert.deepEqual(await scopesOf(h, {}), { roles: ['unauthenticated_public'], scopes: ['read:queue', 'read:status'] });
    } finally {
      await h.close();
    }
  });

  test('every returned scope comes from one of the returned roles', async () => {
    const h = await faceHarness();
    try {
      const bob = await scopesOf(h, bearer((await loginAs(h, 'bob')).access_token));
      const policy = await h.services.policy.get();
      const union = new Set(bob.roles.flatMap((r) => [...(policy.roles.get(r) ?? [])]));
      assert.ok(bob.scopes.length > 0);
      for (const scope of bob.scopes) assert.ok(union.has(scope), scope);
    } finally {
      await h.close();
    }
  });
});
