// Pure policy decisions: role/group resolution, API key scopes, and decide().

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { INHERIT } from '../../src/core/builtin.ts';
import {
  apiKeyEffectiveScopes,
  buildPolicy,
  decide,
  newApiKeyScopes,
  resolve,
  uniqueSorted,
  type KeyScopeResult,
} from '../../src/core/policy.ts';

const policy = buildPolicy(
  [
    { name: 'reader', scopes: ['read:status', 'read:queue', 'read:status'], description: null },
    { name: 'editor', scopes: ['write:queue:edit', 'read:queue'], description: null },
    { name: 'nothing', scopes: [], description: null },
  ],
  [
    { name: 'Editors', roles: ['editor', 'ghost-role'] },
    { name: 'Readers', roles: ['reader'] },
  ],
);

describe('buildPolicy', () => {
  test('stored roles join the built-in ones, scopes de-duplicated and sorted', () => {
    assert.deepEqual(policy.roles.get('reader'), ['read:queue', 'read:status']);
    assert.ok(policy.roles.has('admin'));
    assert.deepEqual(policy.groups.get('Editors'), ['editor', 'ghost-role']);
  });
});

describe('resolve', () => {
  test('direct roles and roles through groups, with where each scope came from', () => {
    const r = resolve(policy, { roles: ['reader'], groups: ['Editors'] });
    assert.deepEqual(r.roles, ['editor', 'reader']);
    assert.deepEqual(r.scopes, ['read:queue', 'read:status', 'write:queue:edit']);
    assert.deepEqual(
      r.grants.filter((g) => g.scope === 'read:queue'),
      [
        { scope: 'read:queue', role: 'reader', viaGroup: null },
        { scope: 'read:queue', role: 'editor', viaGroup: 'Editors' },
      ],
    );
    assert.deepEqual(r.grants.find((g) => g.scope === 'write:queue:edit'), {
      scope: 'write:queue:edit',
      role: 'editor',
      viaGroup: 'Editors',
    });
  });

  test('a role held directly and through a group is listed once', () => {
    const r = resolve(policy, { roles: ['reader'], groups: ['Readers'] });
    assert.deepEqual(r.roles, ['reader']);
    assert.deepEqual(r.scopes, ['read:queue', 'read:status']);
    assert.equal(r.grants.length, 4);
  });

  test('unknown roles and groups are ignored', () => {
    const r = resolve(policy, { roles: ['no-such-role', 'reader'], groups: ['NoSuchGroup', 'Editors'] });
    assert.deepEqual(r.roles, ['editor', 'reader'], 'ghost-role (in Editors) and no-such-role are not listed');
    assert.ok(r.grants.every((g) => g.role !== 'ghost-role' && g.role !== 'no-such-role'));
    assert.deepEqual(resolve(policy, { roles: ['no-such-role'], groups: [] }), { roles: [], scopes: [], grants: [] });
  });

  test('a known role without scopes is still a role', () => {
    const r = resolve(policy, { roles: ['nothing'], groups: [] });
    assert.deepEqual(r.roles, ['nothing']);
    assert.deepEqual(r.scopes, []);
  });

  test('a disabled principal has no roles and no scopes', () => {
    assert.deepEqual(resolve(policy, { roles: ['admin', 'reader'], groups: ['Editors'], disabled: true }), {
      roles: [],
      scopes: [],
      grants: [],
    });
  });

  test('built-in roles resolve without being stored', () => {
    const r = resolve(buildPolicy([], []), { roles: ['observer'], groups: [] });
    assert.deepEqual(r.roles, ['observer']);
    assert.equal(r.scopes.length, 10);
  });
});

describe('apiKeyEffectiveScopes', () => {
  const owner = ['read:status', 'read:queue', 'write:queue:edit'];

  test('inherit confers every current scope of the owner', () => {
    assert.deepEqual(apiKeyEffectiveScopes([INHERIT], owner), ['read:queue', 'read:status', 'write:queue:edit']);
    assert.deepEqual(apiKeyEffectiveScopes([INHERIT, 'admin:metrics'], owner), [
      'read:queue',
      'read:status',
      'write:queue:edit',
    ]);
    assert.deepEqual(apiKeyEffectiveScopes([INHERIT], []), []);
  });

  test('explicit scopes are capped by the owner’s current scopes', () => {
    assert.deepEqual(apiKeyEffectiveScopes(['read:status', 'admin:metrics'], owner), ['read:status']);
    assert.deepEqual(apiKeyEffectiveScopes(['write:queue:edit', 'read:status', 'read:status'], owner), [
      'read:status',
      'write:queue:edit',
    ]);
    assert.deepEqual(apiKeyEffectiveScopes(['read:status'], []), [], 'an owner who lost everything gives the key nothing');
    assert.deepEqual(apiKeyEffectiveScopes([], owner), []);
  });
});

/**
 * newApiKeyScopes mirrors the original server's generate_apikey:
 *  - the ceiling is the creator's current scopes, unless the request authenticated with an API key
 *    whose stored scopes are explicit (no `inherit`): then it is that key's stored scopes;
 *  - no scopes requested, or `inherit` among them, means `inherit` — or, from an explicit-scope
 *    key, a copy of that key's stored scopes (a key can never widen itself through a child);
 *  - anything outside ceiling ∪ {inherit} fails, reporting the requested and the allowed scopes sorted.
 * Deliberate choices, with reasons:
 *  - `inherit` wins over explicit scopes in the same request ([inherit, x] stores [inherit]), as in
 *    the original: the request asked for "everything I have", x adds nothing to that.
 *  - From an explicit-scope key the ceiling is its STORED scopes, not stored ∩ owner's current, as in
 *    the original. This is safe: a child's effective scopes are its stored scopes ∩ the owner's
 *    current ones, so it can never do more than its parent; and intersecting would make a child
 *    key's scopes depend on the moment it was made.
 *  - Stored scopes are de-duplicated and sorted (the original kept the request's order); no
 *    client depends on the order.
 *  - An empty request ([]) makes a key with no scopes, as in the original.
 */
describe('newApiKeyScopes (generate_apikey rules)', () => {
  const allowed = ['user:apikeys', 'read:status', 'read:queue', 'write:queue:edit'];
  const allowedSorted = ['read:queue', 'read:status', 'user:apikeys', 'write:queue:edit'];
  const ok = (scopes: string[]): KeyScopeResult => ({ ok: true, scopes });
  const fail = (requested: string[], allowedList: string[]): KeyScopeResult => ({
    ok: false,
    requested,
    allowed: allowedList,
  });

  const matrix: { name: string; requested: string[] | null; source: string[] | null; expect: KeyScopeResult }[] = [
    // authenticated with a token (or an admin making a key for someone): ceiling = allowed
    { name: 'token, default', requested: null, source: null, expect: ok([INHERIT]) },
    { name: 'token, inherit', requested: [INHERIT], source: null, expect: ok([INHERIT]) },
    { name: 'token, inherit wins over explicit', requested: ['read:status', INHERIT], source: null, expect: ok([INHERIT]) },
    {
      name: 'token, inherit wins even next to a scope not held',
      requested: [INHERIT, 'write:manager:stop'],
      source: null,
      expect: ok([INHERIT]),
    },
    { name: 'token, subset', requested: ['read:status'], source: null, expect: ok(['read:status']) },
    {
      // stored exactly as asked (order and repeats), as the original stores list(scopes)
      name: 'token, subset with duplicates',
      requested: ['read:status', 'read:queue', 'read:status'],
      source: null,
      expect: ok(['read:status', 'read:queue', 'read:status']),
    },
    { name: 'token, all of them', requested: allowed, source: null, expect: ok([...allowed]) },
    { name: 'token, empty', requested: [], source: null, expect: ok([]) },
    {
      name: 'token, not held',
      requested: ['write:manager:stop'],
      source: null,
      expect: fail(['write:manager:stop'], allowedSorted),
    },
    {
      name: 'token, partly held',
      requested: ['write:manager:stop', 'read:status'],
      source: null,
      expect: fail(['read:status', 'write:manager:stop'], allowedSorted),
    },
    // authenticated with an `inherit` key: the same as a token
    { name: 'inherit key, default', requested: null, source: [INHERIT], expect: ok([INHERIT]) },
    { name: 'inherit key, inherit', requested: [INHERIT], source: [INHERIT], expect: ok([INHERIT]) },
    { name: 'inherit key, subset', requested: ['read:queue'], source: [INHERIT], expect: ok(['read:queue']) },
    {
      name: 'inherit key, not held',
      requested: ['admin:apikeys'],
      source: [INHERIT],
      expect: fail(['admin:apikeys'], allowedSorted),
    },
    {
      name: 'key with inherit among explicit scopes counts as inherit',
      requested: ['write:queue:edit'],
      source: ['read:status', INHERIT],
      expect: ok(['write:queue:edit']),
    },
    // authenticated with an explicit-scope key: ceiling = that key's stored scopes
    {
      name: 'explicit key, default copies its scopes',
      requested: null,
      source: ['read:status', 'read:queue'],
      expect: ok(['read:status', 'read:queue']),
    },
    {
      name: 'explicit key, inherit copies its scopes',
      requested: [INHERIT],
      source: ['read:status', 'read:queue'],
      expect: ok(['read:status', 'read:queue']),
    },
    {
      name: 'explicit key, subset of the key',
      requested: ['read:status'],
      source: ['read:status', 'read:queue'],
      expect: ok(['read:status']),
    },
    {
      name: 'explicit key, owner holds it but the key does not',
      requested: ['write:queue:edit'],
      source: ['read:status', 'read:queue'],
      expect: fail(['write:queue:edit'], ['read:queue', 'read:status']),
    },
    {
      name: 'explicit key, a stored scope the owner has since lost may be passed on',
      requested: ['write:testing'],
      source: ['read:status', 'write:testing'],
      expect: ok(['write:testing']),
    },
    { name: 'explicit key without scopes, default', requested: null, source: [], expect: ok([]) },
    {
      name: 'explicit key without scopes, anything',
      requested: ['read:status'],
      source: [],
      expect: fail(['read:status'], []),
    },
  ];

  for (const row of matrix) {
    test(row.name, () => {
      assert.deepEqual(newApiKeyScopes(row.requested, allowed, row.source), row.expect);
    });
  }

  test('a child of an explicit-scope key never confers more than its parent', () => {
    const owner = ['read:status', 'read:queue', 'write:queue:edit'];
    const parent = ['read:status', 'write:testing'];
    for (const requested of [null, [INHERIT], ['read:status'], ['write:testing'], ['read:status', 'write:testing']]) {
      const child = newApiKeyScopes(requested, owner, parent);
      assert.ok(child.ok);
      const childEffective = apiKeyEffectiveScopes(child.scopes, owner);
      const parentEffective = apiKeyEffectiveScopes(parent, owner);
      assert.ok(childEffective.every((s) => parentEffective.includes(s)), JSON.stringify(requested));
    }
  });
});

describe('decide', () => {
  test('allowed when every required scope is held, with the grants as reasons', () => {
    const r = resolve(policy, { roles: ['reader'], groups: ['Editors'] });
    const d = decide(['read:status', 'write:queue:edit'], r.scopes, r.grants);
    assert.equal(d.allowed, true);
    assert.deepEqual(d.missing, []);
    assert.deepEqual(d.reasons, [
      'scope read:status granted by role reader',
      'scope write:queue:edit granted by role editor (group Editors)',
    ]);
  });

  test('denied with the missing scopes named', () => {
    const d = decide(['read:status', 'admin:metrics', 'write:lock'], ['read:status']);
    assert.equal(d.allowed, false);
    assert.deepEqual(d.missing, ['admin:metrics', 'write:lock']);
    assert.deepEqual(d.reasons, ['scope read:status held', 'missing scope admin:metrics', 'missing scope write:lock']);
  });

  test('nothing required is always allowed', () => {
    assert.deepEqual(decide([], []), { allowed: true, missing: [], reasons: [] });
  });
});

test('uniqueSorted', () => {
  assert.deepEqual(uniqueSorted(['b', 'a', 'b']), ['a', 'b']);
  assert.deepEqual(uniqueSorted([]), []);
});
