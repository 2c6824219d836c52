// The built-in Bluesky roles must be exactly the original server's sets (reference/bluesky.md),
// and admin + expert must give exactly the seed's 23 scopes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_ROLES, INHERIT, PUBLIC_ROLE, QUEUE_SERVER_SCOPES } from '../../src/core/builtin.ts';
import { buildPolicy, resolve } from '../../src/core/policy.ts';

const READ = [
  'read:status',
  'read:queue',
  'read:history',
  'read:resources',
  'read:config',
  'read:monitor',
  'read:console',
  'read:lock',
  'read:testing',
];
const USER_WRITES = [
  'write:queue:edit',
  'write:queue:control',
  'write:manager:control',
  'write:plan:control',
  'write:execute',
  'write:history:edit',
];

/** The scopes of `REManagerAPI.api_scopes()`'s documented example (bob: admin + expert). */
const SEED_SCOPES = [
  'admin:apikeys',
  'admin:metrics',
  'admin:read:principals',
  'read:config',
  'read:console',
  'read:history',
  'read:lock',
  'read:monitor',
  'read:queue',
  'read:resources',
  'read:status',
  'read:testing',
  'user:apikeys',
  'write:config',
  'write:execute',
  'write:history:edit',
  'write:lock',
  'write:manager:control',
  'write:permissions',
  'write:plan:control',
  'write:queue:control',
  'write:queue:edit',
  'write:scripts',
];

const sorted = (xs: Iterable<string>) => [...xs].sort();

test('the queue server knows 25 scopes, no duplicates', () => {
  assert.equal(QUEUE_SERVER_SCOPES.length, 25);
  assert.equal(new Set(QUEUE_SERVER_SCOPES).size, 25);
  assert.deepEqual(
    sorted(QUEUE_SERVER_SCOPES),
    sorted([
      ...READ,
      ...USER_WRITES,
      'write:permissions',
      'write:scripts',
      'write:config',
      'write:lock',
      'write:manager:stop',
      'write:testing',
      'user:apikeys',
      'admin:apikeys',
      'admin:read:principals',
      'admin:metrics',
    ]),
  );
});

test('admin + expert resolve to exactly the seed’s 23 scopes', () => {
  const seed = SEED_SCOPES;
  assert.equal(seed.length, 23);
  const resolution = resolve(buildPolicy([], []), { roles: ['admin', 'expert'], groups: [] });
  assert.deepEqual(resolution.roles, ['admin', 'expert']);
  assert.deepEqual(resolution.scopes, sorted(seed));
  assert.ok(!resolution.scopes.includes('write:manager:stop'));
  assert.ok(!resolution.scopes.includes('write:testing'));
});

test('each built-in role has exactly the original server’s scopes', () => {
  const expected: Record<string, string[]> = {
    admin: ['read:status', 'user:apikeys', 'admin:apikeys', 'admin:read:principals', 'admin:metrics'],
    expert: [...READ, ...USER_WRITES, 'write:permissions', 'write:scripts', 'write:config', 'write:lock', 'user:apikeys'],
    advanced: [...READ, ...USER_WRITES, 'user:apikeys'],
    user: [...READ, ...USER_WRITES, 'user:apikeys'],
    observer: [...READ, 'user:apikeys'],
    unauthenticated_single_user: QUEUE_SERVER_SCOPES.filter((s) => !s.startsWith('admin:') && s !== 'user:apikeys'),
    unauthenticated_public: [],
  };
  assert.deepEqual(sorted(BUILTIN_ROLES.keys()), sorted(Object.keys(expected)));
  for (const [role, scopes] of Object.entries(expected)) {
    const actual = BUILTIN_ROLES.get(role) ?? [];
    assert.deepEqual(sorted(actual), sorted(scopes), `role ${role}`);
    assert.equal(new Set(actual).size, actual.length, `role ${role} has no duplicates`);
  }
  assert.equal(BUILTIN_ROLES.get('expert')?.length, 20);
  assert.equal(BUILTIN_ROLES.get('unauthenticated_single_user')?.length, 21);
  assert.ok(BUILTIN_ROLES.get('unauthenticated_single_user')?.includes('write:manager:stop'));
});

test('every built-in scope is a queue-server scope; inherit is not a scope', () => {
  const known = new Set(QUEUE_SERVER_SCOPES);
  for (const [role, scopes] of BUILTIN_ROLES) {
    for (const scope of scopes) assert.ok(known.has(scope), `${role}: ${scope}`);
  }
  assert.ok(!known.has(INHERIT));
  assert.equal(PUBLIC_ROLE, 'unauthenticated_public');
  assert.deepEqual(BUILTIN_ROLES.get(PUBLIC_ROLE), []);
});

test('a stored role of the same name overrides the built-in one', () => {
  const policy = buildPolicy([{ name: 'observer', scopes: ['read:status', 'read:status'], description: null }], []);
  assert.deepEqual(policy.roles.get('observer'), ['read:status']);
  assert.equal(policy.roles.get('admin')?.length, 5, 'other built-in roles stay');
});
