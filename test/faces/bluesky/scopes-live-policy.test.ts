// GET /api/auth/scopes with the repository's example bundle: bob gets exactly the documented
// answer (the client seed's example), and changes to roles apply to the very next request made
// with the same access token or API key: scopes are computed per request, never carried.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { harness } from '../../helpers.ts';
import { apikey, bearer, createKey, login, notEnough, PREFIX, SCOPES, scopesOf, send, type Harness, type Tokens } from './fixtures.ts';

const EXAMPLE_BUNDLE = readFileSync(new URL('../../../examples/bundle.yaml', import.meta.url), 'utf8');
const SEED = readFileSync(new URL('./seeds/bluesky-api_scopes.txt', import.meta.url), 'utf8');

/** The `{'roles': [...], 'scopes': [...]}` example in the client's documentation. */
function seedExample(): { roles: string[]; scopes: string[] } {
  const list = (key: string): string[] => {
    const match = new RegExp(`'${key}':\\s*\\[([^\\]]*)\\]`).exec(SEED.replace(/^#/gm, ''));
    assert.ok(match, `the seed has a ${key} list`);
    return [...(match[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1] ?? '');
  };
  return { roles: list('roles'), scopes: list('scopes') };
}

describe('GET /scopes follows the policy at every request (examples/bundle.yaml)', () => {
  let h: Harness;
  let bob: Tokens;
  const seed = seedExample();

  before(async () => {
    h = await harness({ bundle: EXAMPLE_BUNDLE });
    bob = await login(h.app, 'bob', 'bob_password');
  });
  after(async () => h.close());

  const restoreBob = () => h.services.users.setRoles('bob', ['admin', 'expert']);

  test('the seed example is what it claims: 2 roles, 23 sorted scopes', () => {
    assert.deepEqual(seed.roles, ['admin', 'expert']);
    assert.equal(seed.scopes.length, 23);
    assert.deepEqual(seed.scopes, [...seed.scopes].sort());
    assert.ok(!seed.scopes.includes('write:manager:stop') && !seed.scopes.includes('write:testing'));
  });

  test('bob gets exactly the seed example', async () => {
    const res = await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: bearer(bob.access_token) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { roles: seed.roles, scopes: seed.scopes });
  });

  test('roles changed through the user service apply to the next request with the same token', async () => {
    await h.services.users.setRoles('bob', ['observer']);
    try {
      assert.deepEqual(await scopesOf(h, bearer(bob.access_token)), { roles: ['observer'], scopes: [...SCOPES.observer] });
      // and they are enforced, not only reported
      const res = await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: bearer(bob.access_token) });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { detail: notEnough(['admin:read:principals'], SCOPES.observer) });
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) });
      assert.deepEqual(who.json<{ roles: string[] }>().roles, ['observer']);
    } finally {
      await restoreBob();
    }
    assert.deepEqual(await scopesOf(h, bearer(bob.access_token)), { roles: seed.roles, scopes: seed.scopes });
  });

  test('roles changed by applying a bundle apply to the next request with the same token', async () => {
    await h.services.bundles.applyText('users:\n  - { username: bob, roles: [user] }\n', 'change');
    try {
      assert.deepEqual(await scopesOf(h, bearer(bob.access_token)), { roles: ['user'], scopes: [...SCOPES.user] });
    } finally {
      await restoreBob();
    }
  });

  test("a role's definition changed by a bundle applies to the next request", async () => {
    await h.services.bundles.applyText('roles:\n  - { name: expert, scopes: [read:status, read:queue] }\n', 'narrow expert');
    try {
      const admin = ['admin:apikeys', 'admin:metrics', 'admin:read:principals', 'read:status', 'user:apikeys'];
      assert.deepEqual(await scopesOf(h, bearer(bob.access_token)), { roles: ['admin', 'expert'], scopes: [...admin, 'read:queue'].sort() });
    } finally {
      await h.services.store.deleteRole('expert'); // back to the built-in definition
    }
    assert.deepEqual(await scopesOf(h, bearer(bob.access_token)), { roles: seed.roles, scopes: seed.scopes });
  });

  test('an inheriting API key follows its owner: new roles at the next request', async () => {
    const key = await createKey(h, bearer(bob.access_token));
    assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: seed.roles, scopes: seed.scopes });
    await h.services.users.setRoles('bob', ['observer']);
    try {
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['observer'], scopes: [...SCOPES.observer] });
    } finally {
      await restoreBob();
    }
    assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: seed.roles, scopes: seed.scopes });
  });

  test("a key with explicit scopes loses a scope its owner loses (key scopes ∩ owner scopes), and regains it", async () => {
    const key = await createKey(h, bearer(bob.access_token), { scopes: ['admin:read:principals', 'read:status', 'write:queue:edit'] });
    assert.deepEqual((await scopesOf(h, apikey(key.secret))).scopes, ['admin:read:principals', 'read:status', 'write:queue:edit']);
    await h.services.users.setRoles('bob', ['expert']);
    try {
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['expert'], scopes: ['read:status', 'write:queue:edit'] });
      const list = await send(h, { method: 'GET', url: `${PREFIX}/principal`, headers: apikey(key.secret) });
      assert.equal(list.statusCode, 401);
      await h.services.users.setRoles('bob', ['observer']);
      assert.deepEqual(await scopesOf(h, apikey(key.secret)), { roles: ['observer'], scopes: ['read:status'] });
    } finally {
      await restoreBob();
    }
    // the stored scopes never changed: restoring the owner restores the key
    assert.deepEqual((await scopesOf(h, apikey(key.secret))).scopes, ['admin:read:principals', 'read:status', 'write:queue:edit']);
  });
});
