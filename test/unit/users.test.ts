// User administration and the in-memory policy cache.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PasswordHasher } from '../../src/auth/passwords.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/core/errors.ts';
import { ManualClock } from '../../src/core/time.ts';
import { PolicyCache } from '../../src/services/policy-cache.ts';
import { UserService } from '../../src/services/users.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';

const FAST = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

async function setup() {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  const passwords = new PasswordHasher(FAST);
  const policy = new PolicyCache(store);
  const users = new UserService(store, clock, passwords, policy);
  return {
    store,
    clock,
    passwords,
    policy,
    users,
    close: async () => {
      policy.close();
      await store.close();
    },
  };
}

describe('UserService', () => {
  test('add hashes the password and checks roles and groups against the policy', async () => {
    const { users, passwords, store, close } = await setup();
    try {
      await store.putGroup({ name: 'Editors', roles: ['user'], attributes: {} });
      const bob = await users.add({ username: 'bob', password: 'pw', email: 'bob@example.org', roles: ['expert'], groups: ['Editors'] });
      assert.ok(bob.passwordHash && (await passwords.verify(bob.passwordHash, 'pw')));
      assert.deepEqual(bob.roles, ['expert']);
      assert.deepEqual(bob.groups, ['Editors']);
      await assert.rejects(users.add({ username: 'bob' }), ConflictError);
      await assert.rejects(users.add({ username: 'x', roles: ['no-such-role'] }), ValidationError);
      await assert.rejects(users.add({ username: 'y', groups: ['NoSuchGroup'] }), ValidationError);
      await assert.rejects(users.add({ username: 'z', email: 'not-an-email' }), ValidationError);
      await assert.rejects(users.add({ username: '' }), ValidationError);
      assert.deepEqual(
        (await users.list()).map((u) => u.username),
        ['bob'],
      );
    } finally {
      await close();
    }
  });

  test('a role created a moment ago can be assigned at once', async () => {
    const { users, store, close } = await setup();
    try {
      await users.add({ username: 'early' }); // loads the policy into the cache
      await store.putRole({ name: 'fresh', scopes: ['read:status'], description: null });
      assert.deepEqual((await users.add({ username: 'late', roles: ['fresh'] })).roles, ['fresh']);
    } finally {
      await close();
    }
  });

  test('a PHC password is kept as it is; service principals need none', async () => {
    const { users, close } = await setup();
    try {
      const phc = await new PasswordHasher(FAST).hash('elsewhere');
      assert.equal((await users.add({ username: 'imported', password: phc })).passwordHash, phc);
      const svc = await users.add({ username: 'svc', type: 'service' });
      assert.equal(svc.type, 'service');
      assert.equal(svc.passwordHash, null);
    } finally {
      await close();
    }
  });

  test('setPassword, setRoles, setDisabled (which ends sessions) and remove', async () => {
    const { users, passwords, store, clock, close } = await setup();
    try {
      const carol = await users.add({ username: 'carol', password: 'old', roles: ['user'] });
      await users.setPassword('carol', 'new');
      const hash = (await users.get('carol')).passwordHash;
      assert.ok(hash && (await passwords.verify(hash, 'new')));
      assert.ok(!(await passwords.verify(hash, 'old')));
      await assert.rejects(users.setPassword('carol', ''), ValidationError);
      await assert.rejects(users.setPassword('carol', 'x'.repeat(1025)), ValidationError);

      await users.setRoles('carol', ['observer', 'advanced']);
      assert.deepEqual((await users.get('carol')).roles, ['advanced', 'observer']);
      await assert.rejects(users.setRoles('carol', ['ghost']), ValidationError);

      await store.createSession({
        id: 's1',
        principalId: carol.id,
        createdAt: clock.now(),
        expiresAt: clock.now() + 60_000,
        revokedAt: null,
        lastRefreshedAt: null,
        refreshCount: 0,
        clientId: null,
        scope: null,
      });
      await users.setDisabled('carol', true);
      assert.equal((await users.get('carol')).disabled, true);
      assert.equal((await store.getSession('s1'))?.revokedAt, clock.now());
      await users.setDisabled('carol', false);
      assert.equal((await users.get('carol')).disabled, false);

      await users.remove('carol');
      await assert.rejects(users.get('carol'), NotFoundError);
      await assert.rejects(users.remove('carol'), NotFoundError);
    } finally {
      await close();
    }
  });
});

describe('PolicyCache', () => {
  /** Counts listRoles calls, and can hold them until released. */
  function counting(store: Store) {
    const state = { loads: 0, hold: null as Promise<void> | null };
    const proxy = new Proxy(store, {
      get(target, name) {
        if (name === 'listRoles') {
          return async () => {
            state.loads++;
            const rows = await target.listRoles();
            if (state.hold) await state.hold;
            return rows;
          };
        }
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { proxy, state };
  }

  test('loads once, is shared by concurrent callers, and reloads after a policy change', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    const { proxy, state } = counting(store);
    const cache = new PolicyCache(proxy);
    try {
      const [a, b] = await Promise.all([cache.get(), cache.get()]);
      assert.equal(a, b);
      assert.equal(state.loads, 1);
      await cache.get();
      assert.equal(state.loads, 1);

      await store.putRole({ name: 'r', scopes: ['read:status'], description: null });
      const after = await cache.get();
      assert.equal(state.loads, 2);
      assert.deepEqual(after.roles.get('r'), ['read:status']);

      await store.createPrincipal({ id: 'p', type: 'user', username: 'p', createdAt: 0 });
      await cache.get();
      assert.equal(state.loads, 2, 'a principal change does not touch the policy');
    } finally {
      cache.close();
      await store.close();
    }
  });

  test('a load that started before a change is not kept', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    const { proxy, state } = counting(store);
    const cache = new PolicyCache(proxy);
    try {
      let release!: () => void;
      state.hold = new Promise<void>((r) => (release = r));
      const stale = cache.get();
      await new Promise((r) => setImmediate(r));
      await store.putRole({ name: 'late', scopes: ['read:queue'], description: null });
      state.hold = null;
      release();
      await stale;
      assert.deepEqual((await cache.get()).roles.get('late'), ['read:queue']);
    } finally {
      cache.close();
      await store.close();
    }
  });

  test('after close() changes are no longer followed', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    const cache = new PolicyCache(store);
    await cache.get();
    cache.close();
    await store.putRole({ name: 'unseen', scopes: [], description: null });
    assert.equal((await cache.get()).roles.has('unseen'), false);
    await store.close();
  });
});
