// The policy bundle: parse and shape errors, reference checks, and apply — idempotent, atomic,
// prune only what is absent, dry runs, PHC passwords kept, export -> apply round trip.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PasswordHasher } from '../../src/auth/passwords.ts';
import { ValidationError } from '../../src/core/errors.ts';
import { ManualClock } from '../../src/core/time.ts';
import { BundleService, bundleToYaml, parseBundleText, validateBundleShape, type ApplyReport } from '../../src/services/bundle.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { ChangeEvent, Store } from '../../src/store/store.ts';

const FAST = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

/** Counts the hashes it makes, to prove unchanged passwords are not hashed again. */
class CountingHasher extends PasswordHasher {
  hashes = 0;
  override async hash(password: string): Promise<string> {
    this.hashes++;
    return super.hash(password);
  }
}

async function setup(wrap: (store: Store) => Store = (s) => s) {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const passwords = new CountingHasher(FAST, 4);
  const bundles = new BundleService(wrap(store), clock, passwords);
  return { store, clock, passwords, bundles, close: () => store.close() };
}

/** Everything a bundle can change, including password hashes and update times. */
async function snapshot(store: Store) {
  return {
    roles: await store.listRoles(),
    groups: await store.listGroups(),
    principals: await store.listPrincipals(),
  };
}

function validationMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a ValidationError');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected a rejection');
}

const zero = { created: 0, updated: 0, unchanged: 0, deleted: 0 };

const BUNDLE = `
roles:
  - { name: operator, scopes: [read:status, write:queue:edit, read:status], description: runs the queue }
  - { name: auditor, scopes: [read:history] }
groups:
  - name: Editors
    roles: [operator, observer]
    entityGroups: { java-virtual-machine: READ }
    allEntitiesRead: false
    allEntitiesWrite: true
    portals: [ATSD]
  - { name: Auditors, roles: [auditor] }
users:
  - { username: bob, password: bob_password, email: bob@example.org, roles: [admin, expert], groups: [Editors], ipFilter: "203.0.113.0/24" }
  - { username: alice, password: alice_password, roles: [user], groups: [Auditors], admin: true }
  - { username: backup, type: service, roles: [observer] }
`;

describe('parsing', () => {
  test('a YAML syntax error names the source and the line', () => {
    const message = validationMessage(() =>
      parseBundleText('roles:\n  - name: a\n    scopes: [read:status\nusers: []\n', 'policy.yaml'),
    );
    assert.match(message, /^policy\.yaml: cannot parse at line [34], column \d+: \S/);
  });

  test('a JSON syntax error names the line', () => {
    const message = validationMessage(() =>
      parseBundleText('{\n  "roles": [],\n  "users": [\n    {"username": "a" "admin": true}\n  ]\n}\n', 'policy.json'),
    );
    assert.match(message, /^policy\.json: cannot parse at line 4, column \d+: \S.*[^:]$/);
  });

  test('a key given twice is an error with its line', () => {
    const message = validationMessage(() => parseBundleText('roles: []\ngroups: []\nroles: []\n', 'dup.yaml'));
    assert.match(message, /dup\.yaml: cannot parse at line 3/);
  });

  test('JSON and YAML give the same bundle', () => {
    const yaml = parseBundleText('roles:\n  - { name: a, scopes: [x] }\n');
    const json = parseBundleText('{"roles": [{"name": "a", "scopes": ["x"]}]}');
    assert.deepEqual(yaml, json);
  });
});

describe('shape', () => {
  test('every problem is listed with its path, unknown keys by name', () => {
    const message = validationMessage(() =>
      validateBundleShape(
        {
          roles: [{ name: 'ok', scopes: ['read:status'] }, { name: 'r', scopes: ['a'], extra: 1 }],
          groups: [{ name: 'G', roles: 'operator' }],
          users: [{ username: 'bob', roles: ['admin'], pasword: 'typo' }],
          nonsense: true,
        },
        'policy.yaml',
      ),
    );
    assert.match(message, /^policy\.yaml is not valid:/);
    assert.ok(message.includes('(top level): unknown key(s) "nonsense"'), message);
    assert.ok(message.includes('roles[1]: unknown key(s) "extra"'), message);
    assert.ok(message.includes('groups[0].roles'), message);
    assert.ok(message.includes('users[0]: unknown key(s) "pasword"'), message);
  });

  test('wrong types and bad names are reported where they are', () => {
    const message = validationMessage(() =>
      validateBundleShape({ users: [{ username: 'ok' }, { username: '' }, { username: 'x', email: 'not-an-email', admin: 'yes' }] }),
    );
    assert.ok(message.includes('users[1].username'), message);
    assert.ok(message.includes('users[2].email'), message);
    assert.ok(message.includes('users[2].admin'), message);
    assert.ok(!message.includes('users[0]'), message);
  });

  test('a bundle that is not a mapping is refused; an empty one is fine', () => {
    validationMessage(() => validateBundleShape(['roles']));
    validationMessage(() => validateBundleShape('roles'));
    assert.deepEqual(validateBundleShape(null), {});
    assert.deepEqual(validateBundleShape({}), {});
  });
});

describe('references and duplicates', () => {
  test('duplicate names in any section', async () => {
    const { bundles, store, close } = await setup();
    try {
      const error = await rejection(
        bundles.apply({
          roles: [
            { name: 'r', scopes: [] },
            { name: 'r', scopes: ['x'] },
          ],
          groups: [
            { name: 'G', roles: [] },
            { name: 'G' },
          ],
          users: [{ username: 'bob' }, { username: 'bob' }],
        }),
      );
      assert.ok(error instanceof ValidationError);
      assert.ok(error.message.includes('roles: "r" appears more than once'), error.message);
      assert.ok(error.message.includes('groups: "G" appears more than once'), error.message);
      assert.ok(error.message.includes('users: "bob" appears more than once'), error.message);
      assert.deepEqual(await snapshot(store), { roles: [], groups: [], principals: [] });
    } finally {
      await close();
    }
  });

  test('unknown roles and groups are named with their paths', async () => {
    const { bundles, store, close } = await setup();
    try {
      const error = await rejection(
        bundles.apply({
          roles: [{ name: 'mine', scopes: [] }],
          groups: [{ name: 'G', roles: ['mine', 'admin', 'ghost'] }],
          users: [
            { username: 'a', roles: ['mine', 'user'], groups: ['G'] },
            { username: 'b', roles: ['phantom'], groups: ['NoSuchGroup'] },
          ],
        }),
      );
      assert.ok(error instanceof ValidationError);
      assert.ok(error.message.includes('groups[0].roles[2]: unknown role "ghost"'), error.message);
      assert.ok(error.message.includes('users[1].roles[0]: unknown role "phantom"'), error.message);
      assert.ok(error.message.includes('users[1].groups[0]: unknown group "NoSuchGroup"'), error.message);
      assert.ok(!error.message.includes('users[0]'), error.message);
      assert.deepEqual(await snapshot(store), { roles: [], groups: [], principals: [] });
    } finally {
      await close();
    }
  });

  test('stored roles and groups count as known, unless pruning would remove them', async () => {
    const { bundles, close } = await setup();
    try {
      await bundles.apply({ roles: [{ name: 'stored', scopes: [] }], groups: [{ name: 'StoredGroup' }] });
      const users = [{ username: 'u', roles: ['stored'], groups: ['StoredGroup'] }];
      assert.equal((await bundles.apply({ users })).users.created, 1);
      const error = await rejection(bundles.apply({ users }, { prune: true }));
      assert.ok(error.message.includes('unknown role "stored"'), error.message);
      assert.ok(error.message.includes('unknown group "StoredGroup"'), error.message);
    } finally {
      await close();
    }
  });

  test('a password that looks like a hash must be an argon2id PHC string', async () => {
    const { bundles, close } = await setup();
    try {
      const error = await rejection(bundles.apply({ users: [{ username: 'u', password: '$2b$10$abcdefghijk' }] }));
      assert.ok(error.message.includes('users[0].password'), error.message);
    } finally {
      await close();
    }
  });

  test('a principal’s type cannot change', async () => {
    const { bundles, close } = await setup();
    try {
      await bundles.apply({ users: [{ username: 'svc', type: 'service' }] });
      const error = await rejection(bundles.apply({ users: [{ username: 'svc', type: 'user' }] }));
      assert.ok(error instanceof ValidationError);
      assert.ok(error.message.includes('svc'), error.message);
    } finally {
      await close();
    }
  });
});

describe('apply', () => {
  test('creates what the bundle describes', async () => {
    const { bundles, store, passwords, close } = await setup();
    try {
      const report = await bundles.applyText(BUNDLE, 'policy.yaml');
      assert.deepEqual(report, {
        roles: { ...zero, created: 2 },
        groups: { ...zero, created: 2 },
        users: { ...zero, created: 3 },
        applications: zero,
        scopeCatalog: zero,
        notApplied: [],
        dryRun: false,
      });
      assert.equal(passwords.hashes, 2);
      assert.deepEqual(await store.getRole('operator'), {
        name: 'operator',
        scopes: ['read:status', 'write:queue:edit'],
        description: 'runs the queue',
      });
      assert.deepEqual(await store.getGroup('Editors'), {
        name: 'Editors',
        roles: ['observer', 'operator'],
        attributes: { entityGroups: { 'java-virtual-machine': 'READ' }, allEntitiesRead: false, allEntitiesWrite: true, portals: ['ATSD'] },
      });
      const bob = await store.getPrincipalByUsername('bob');
      assert.equal(bob?.email, 'bob@example.org');
      assert.deepEqual(bob?.roles, ['admin', 'expert']);
      assert.deepEqual(bob?.groups, ['Editors']);
      assert.equal(bob?.ipFilter, '203.0.113.0/24');
      assert.ok(bob?.passwordHash && (await passwords.verify(bob.passwordHash, 'bob_password')));
      const alice = await store.getPrincipalByUsername('alice');
      assert.equal(alice?.admin, true);
      const backup = await store.getPrincipalByUsername('backup');
      assert.equal(backup?.type, 'service');
      assert.equal(backup?.passwordHash, null);
    } finally {
      await close();
    }
  });

  test('applying the same bundle again reports everything unchanged and changes nothing', async () => {
    const { bundles, store, passwords, clock, close } = await setup();
    try {
      await bundles.applyText(BUNDLE, 'policy.yaml');
      const before = await snapshot(store);
      const hashesBefore = passwords.hashes;
      const events: ChangeEvent[] = [];
      const off = store.onChange((e) => events.push(e));
      clock.advance(60_000);
      const report = await bundles.applyText(BUNDLE, 'policy.yaml');
      off();
      assert.deepEqual(report, {
        roles: { ...zero, unchanged: 2 },
        groups: { ...zero, unchanged: 2 },
        users: { ...zero, unchanged: 3 },
        applications: zero,
        scopeCatalog: zero,
        notApplied: [],
        dryRun: false,
      });
      assert.equal(passwords.hashes, hashesBefore, 'clear passwords that still match are not hashed again');
      assert.deepEqual(await snapshot(store), before);
      assert.deepEqual(events, [], 'no writes at all');
    } finally {
      await close();
    }
  });

  test('the order of keys, scopes, roles and groups does not make a change', async () => {
    const { bundles, close } = await setup();
    try {
      await bundles.applyText(BUNDLE, 'policy.yaml');
      const reordered = `
users:
  - { groups: [Auditors], roles: [user], admin: true, password: alice_password, username: alice }
  - { roles: [observer], type: service, username: backup }
  - { ipFilter: "203.0.113.0/24", groups: [Editors], roles: [expert, admin, expert], email: bob@example.org, password: bob_password, username: bob }
groups:
  - { roles: [auditor], name: Auditors }
  - portals: [ATSD]
    allEntitiesWrite: true
    allEntitiesRead: false
    entityGroups: { java-virtual-machine: READ }
    roles: [observer, operator]
    name: Editors
roles:
  - { scopes: [read:history], name: auditor }
  - { description: runs the queue, scopes: [write:queue:edit, read:status], name: operator }
`;
      const report = await bundles.applyText(reordered, 'reordered.yaml');
      assert.deepEqual([report.roles, report.groups, report.users], [
        { ...zero, unchanged: 2 },
        { ...zero, unchanged: 2 },
        { ...zero, unchanged: 3 },
      ]);
    } finally {
      await close();
    }
  });

  test('changes are reported as updates, and only what changed is written', async () => {
    const { bundles, store, passwords, close } = await setup();
    try {
      await bundles.applyText(BUNDLE, 'policy.yaml');
      const bobBefore = await store.getPrincipalByUsername('bob');
      const hashes = passwords.hashes;
      const changed = BUNDLE.replace('[read:history]', '[read:history, read:queue]').replace(
        'password: alice_password',
        'password: new_alice_password',
      );
      const report = await bundles.applyText(changed, 'policy.yaml');
      assert.deepEqual(report.roles, { ...zero, updated: 1, unchanged: 1 });
      assert.deepEqual(report.groups, { ...zero, unchanged: 2 });
      assert.deepEqual(report.users, { ...zero, updated: 1, unchanged: 2 });
      assert.equal(passwords.hashes, hashes + 1);
      const alice = await store.getPrincipalByUsername('alice');
      assert.ok(alice?.passwordHash && (await passwords.verify(alice.passwordHash, 'new_alice_password')));
      assert.deepEqual(await store.getPrincipalByUsername('bob'), bobBefore);
    } finally {
      await close();
    }
  });

  test('a user disabled by the bundle loses its sessions', async () => {
    const { bundles, store, clock, close } = await setup();
    try {
      await bundles.apply({ users: [{ username: 'dan', roles: ['user'] }] });
      const dan = await store.getPrincipalByUsername('dan');
      assert.ok(dan);
      await store.createSession({
        id: 'sess-1',
        principalId: dan.id,
        createdAt: clock.now(),
        expiresAt: clock.now() + 3_600_000,
        revokedAt: null,
        lastRefreshedAt: null,
        refreshCount: 0,
        clientId: null,
        scope: null,
      });
      const report = await bundles.apply({ users: [{ username: 'dan', roles: ['user'], disabled: true }] });
      assert.equal(report.users.updated, 1);
      assert.equal((await store.getPrincipalByUsername('dan'))?.disabled, true);
      assert.equal((await store.getSession('sess-1'))?.revokedAt, clock.now());
    } finally {
      await close();
    }
  });

  test('an argon2id PHC password is stored verbatim, never hashed', async () => {
    const { bundles, store, passwords, close } = await setup();
    try {
      const phc = await new PasswordHasher(FAST).hash('from-elsewhere');
      const report = await bundles.apply({ users: [{ username: 'eve', password: phc }] });
      assert.equal(report.users.created, 1);
      assert.equal(passwords.hashes, 0);
      assert.equal((await store.getPrincipalByUsername('eve'))?.passwordHash, phc);
      assert.equal((await bundles.apply({ users: [{ username: 'eve', password: phc }] })).users.unchanged, 1);
    } finally {
      await close();
    }
  });

  test('sections this version does not act on are reported, not applied', async () => {
    const { bundles, close } = await setup();
    try {
      const report = await bundles.apply({
        applications: [{ clientId: 'vcert-cli', scopes: 'certificate:manage' }],
        platforms: [{ name: 'volttron1', auths: [] }],
      });
      assert.deepEqual(report.notApplied, ['platforms']);
      assert.equal(report.applications.created, 1);
    } finally {
      await close();
    }
  });
});

describe('prune', () => {
  const WIDE = `
roles: [{ name: keep, scopes: [read:status] }, { name: drop, scopes: [] }]
groups: [{ name: KeepGroup, roles: [keep] }, { name: DropGroup }]
users:
  - { username: kept, roles: [keep], groups: [KeepGroup] }
  - { username: dropped, groups: [DropGroup] }
  - { username: svc, type: service }
`;
  const NARROW = `
roles: [{ name: keep, scopes: [read:status] }]
groups: [{ name: KeepGroup, roles: [keep] }]
users: [{ username: kept, roles: [keep], groups: [KeepGroup] }]
`;

  test('deletes exactly what the bundle does not mention', async () => {
    const { bundles, store, close } = await setup();
    try {
      await bundles.applyText(WIDE, 'wide.yaml');
      const kept = await store.getPrincipalByUsername('kept');
      const report = await bundles.applyText(NARROW, 'narrow.yaml', { prune: true });
      assert.deepEqual(report.roles, { ...zero, unchanged: 1, deleted: 1 });
      assert.deepEqual(report.groups, { ...zero, unchanged: 1, deleted: 1 });
      assert.deepEqual(report.users, { ...zero, unchanged: 1, deleted: 2 });
      assert.deepEqual(
        (await store.listRoles()).map((r) => r.name),
        ['keep'],
      );
      assert.deepEqual(
        (await store.listGroups()).map((g) => g.name),
        ['KeepGroup'],
      );
      assert.deepEqual(await store.listPrincipals(), [kept]);
    } finally {
      await close();
    }
  });

  test('without prune, what the bundle does not mention is left alone', async () => {
    const { bundles, store, close } = await setup();
    try {
      await bundles.applyText(WIDE, 'wide.yaml');
      const before = await snapshot(store);
      const report = await bundles.applyText(NARROW, 'narrow.yaml');
      assert.deepEqual([report.roles.deleted, report.groups.deleted, report.users.deleted], [0, 0, 0]);
      assert.deepEqual(await snapshot(store), before);
    } finally {
      await close();
    }
  });

  test('pruning pages through many principals', async () => {
    const { bundles, store, close } = await setup();
    try {
      const users = Array.from({ length: 1205 }, (_, i) => ({ username: `user-${String(i).padStart(4, '0')}` }));
      await bundles.apply({ users });
      const report = await bundles.apply({ users: [{ username: 'user-0600' }] }, { prune: true });
      assert.equal(report.users.deleted, 1204);
      assert.deepEqual(
        (await store.listPrincipals()).map((p) => p.username),
        ['user-0600'],
      );
    } finally {
      await close();
    }
  });
});

describe('dry run', () => {
  test('reports what would change and changes nothing, with or without prune', async () => {
    const { bundles, store, close } = await setup();
    try {
      await bundles.apply({ roles: [{ name: 'old', scopes: [] }], users: [{ username: 'old-user' }] });
      const before = await snapshot(store);
      const events: ChangeEvent[] = [];
      const off = store.onChange((e) => events.push(e));
      const dry: ApplyReport = await bundles.applyText(BUNDLE, 'policy.yaml', { dryRun: true, prune: true });
      off();
      assert.equal(dry.dryRun, true);
      assert.deepEqual(dry.roles, { ...zero, created: 2, deleted: 1 });
      assert.deepEqual(dry.groups, { ...zero, created: 2 });
      assert.deepEqual(dry.users, { ...zero, created: 3, deleted: 1 });
      assert.deepEqual(await snapshot(store), before);
      assert.deepEqual(events, []);

      const real = await bundles.applyText(BUNDLE, 'policy.yaml', { prune: true });
      assert.deepEqual({ ...real, dryRun: true }, dry, 'the real run does what the dry run said');
    } finally {
      await close();
    }
  });
});

describe('atomicity', () => {
  /** The store, except that the nth call of `method` (inside transactions too) fails. */
  function failing(method: keyof Store, nth: number) {
    return (store: Store): Store => {
      let calls = 0;
      const wrap = (target: Store): Store =>
        new Proxy(target, {
          get(t, name) {
            const value: unknown = Reflect.get(t, name, t);
            if (typeof value !== 'function') return value;
            const fn = value as (...args: unknown[]) => unknown;
            if (name === 'transaction') {
              return (body: (tx: Store) => Promise<unknown>) => t.transaction((tx) => body(wrap(tx)));
            }
            if (name === method) {
              return async (...args: unknown[]) => {
                if (++calls === nth) throw new Error(`${String(name)} failed`);
                return fn.apply(t, args);
              };
            }
            return fn.bind(t);
          },
        });
      return wrap(store);
    };
  }

  for (const [method, nth] of [
    ['createPrincipal', 2],
    ['putGroup', 2],
    ['updatePrincipal', 1],
    ['deletePrincipal', 1],
  ] as const) {
    test(`a failure of ${method} mid-way applies nothing at all`, async () => {
      const { bundles, store, close } = await setup(failing(method, nth));
      try {
        // a first state to update and prune from (the failing store is only the service's)
        await store.putRole({ name: 'old-role', scopes: [], description: null });
        await store.createPrincipal({ id: 'p-old', type: 'user', username: 'old-user', createdAt: 1 });
        await store.createPrincipal({ id: 'p-bob', type: 'user', username: 'bob', createdAt: 1 });
        const before = await snapshot(store);
        const error = await rejection(bundles.applyText(BUNDLE, 'policy.yaml', { prune: true }));
        assert.equal(error.message, `${method} failed`);
        assert.deepEqual(await snapshot(store), before);
      } finally {
        await close();
      }
    });
  }
});

describe('export', () => {
  test('export -> apply reports everything unchanged', async () => {
    const { bundles, store, close } = await setup();
    try {
      await bundles.applyText(BUNDLE, 'policy.yaml');
      const before = await snapshot(store);
      const exported = await bundles.export();
      assert.deepEqual(
        exported.users?.map((u) => u.username),
        ['alice', 'backup', 'bob'],
      );
      const bob = exported.users?.find((u) => u.username === 'bob');
      assert.equal(bob?.password, before.principals.find((p) => p.username === 'bob')?.passwordHash);
      assert.equal(exported.users?.find((u) => u.username === 'backup')?.type, 'service');

      const yaml = bundleToYaml(exported);
      const report = await bundles.applyText(yaml, 'exported.yaml', { prune: true });
      assert.deepEqual([report.roles, report.groups, report.users], [
        { ...zero, unchanged: 2 },
        { ...zero, unchanged: 2 },
        { ...zero, unchanged: 3 },
      ]);
      assert.deepEqual(await snapshot(store), before);
    } finally {
      await close();
    }
  });

  test('an exported bundle recreates the same policy in an empty store', async () => {
    const source = await setup();
    const target = await setup();
    try {
      await source.bundles.applyText(BUNDLE, 'policy.yaml');
      const yaml = bundleToYaml(await source.bundles.export());
      await target.bundles.applyText(yaml, 'exported.yaml');
      assert.equal(target.passwords.hashes, 0, 'PHC passwords are copied, not hashed');
      const strip = async (store: Store) => {
        const s = await snapshot(store);
        return { ...s, principals: s.principals.map(({ id: _id, ...rest }) => rest) };
      };
      assert.deepEqual(await strip(target.store), await strip(source.store));
    } finally {
      await source.close();
      await target.close();
    }
  });
});

describe('applications and the TPP scope catalog', () => {
  const TPP = `
applications:
  - { clientId: vcert-cli, scopes: "ssh:manage;certificate:revoke,manage,revoke", name: VCert CLI }
  - { clientId: short-lived, scopes: admin, accessTokenTtl: 60, grantTtl: 3600, allowRefresh: false }
scopeCatalog:
  - { scope: ssh, restrictions: [manage] }
  - { scope: certificate, restrictions: [revoke, manage, discover] }
  - { scope: admin, restrictions: [] }
`;

  test('applies them: scopes normalized, defaults filled in, the catalog in its own order', async () => {
    const { bundles, store, close } = await setup();
    try {
      const report = await bundles.applyText(TPP, 'tpp.yaml');
      assert.deepEqual(report.applications, { ...zero, created: 2 });
      assert.deepEqual(report.scopeCatalog, { ...zero, created: 1 });
      assert.deepEqual(report.notApplied, []);
      assert.deepEqual(await store.listApplications(), [
        { clientId: 'short-lived', name: null, scopes: 'admin', accessTokenTtl: 60, grantTtl: 3600, allowRefresh: false },
        {
          clientId: 'vcert-cli',
          name: 'VCert CLI',
          scopes: 'certificate:manage,revoke;ssh:manage',
          accessTokenTtl: 90 * 86400,
          grantTtl: 365 * 86400,
          allowRefresh: true,
        },
      ]);
      assert.deepEqual(await store.getScopeCatalog(), [
        { scope: 'ssh', restrictions: ['manage'] },
        { scope: 'certificate', restrictions: ['revoke', 'manage', 'discover'] },
        { scope: 'admin', restrictions: [] },
      ]);
    } finally {
      await close();
    }
  });

  test('applying them again changes nothing; a change is an update', async () => {
    const { bundles, store, close } = await setup();
    try {
      await bundles.applyText(TPP, 'tpp.yaml');
      const events: ChangeEvent[] = [];
      const off = store.onChange((e) => events.push(e));
      const again = await bundles.applyText(TPP, 'tpp.yaml');
      off();
      assert.deepEqual(again.applications, { ...zero, unchanged: 2 });
      assert.deepEqual(again.scopeCatalog, { ...zero, unchanged: 1 });
      assert.deepEqual(events, []);
      const changed = await bundles.applyText(TPP.replace('accessTokenTtl: 60', 'accessTokenTtl: 120').replace('[manage]', '[manage, delete]'), 'tpp.yaml');
      assert.deepEqual(changed.applications, { ...zero, updated: 1, unchanged: 1 });
      assert.deepEqual(changed.scopeCatalog, { ...zero, updated: 1 });
      assert.equal((await store.getApplication('short-lived'))?.accessTokenTtl, 120);
    } finally {
      await close();
    }
  });

  test('application scopes must parse and lie within the catalog in force; duplicates are refused; nothing is written', async () => {
    const { bundles, store, close } = await setup();
    try {
      const error = await rejection(
        bundles.applyText(
          `
applications:
  - { clientId: a, scopes: "certificate:manage;;ssh" }
  - { clientId: b, scopes: "certificate:approve" }
  - { clientId: c, scopes: "read:status" }
  - { clientId: c, scopes: "ssh" }
  - { clientId: d, scopes: "" }
scopeCatalog:
  - { scope: certificate, restrictions: [manage, manage] }
  - { scope: ssh, restrictions: [] }
  - { scope: ssh, restrictions: [manage] }
`,
          'bad.yaml',
        ),
      );
      assert.ok(error instanceof ValidationError);
      for (const expected of [
        'applications: "c" appears more than once',
        'scopeCatalog[0].restrictions[1]: "manage" appears more than once',
        'scopeCatalog[2].scope: "ssh" appears more than once',
        'applications[0].scopes: scope part 2 is empty',
        'applications[1].scopes: not in the scope catalog: certificate:approve',
        'applications[2].scopes: not in the scope catalog: read',
        'applications[4].scopes: scope is empty',
      ]) {
        assert.ok(error.message.includes(expected), `"${expected}" in ${error.message}`);
      }
      assert.deepEqual(await store.listApplications(), []);
      assert.equal(await store.getScopeCatalog(), null);
    } finally {
      await close();
    }
  });

  test('without a catalog in the bundle, the stored one (else the default) decides', async () => {
    const { bundles, close } = await setup();
    try {
      // the default TPP catalog knows codesign:admin
      assert.equal((await bundles.apply({ applications: [{ clientId: 'x', scopes: 'codesign:admin' }] })).applications.created, 1);
      await bundles.apply({ scopeCatalog: [{ scope: 'ssh', restrictions: ['manage'] }] });
      const error = await rejection(bundles.apply({ applications: [{ clientId: 'y', scopes: 'codesign:admin' }] }));
      assert.match(error.message, /applications\[0\]\.scopes: not in the scope catalog: codesign:admin/);
    } finally {
      await close();
    }
  });

  test('prune deletes applications the bundle does not name, with their grants, and puts back the default catalog', async () => {
    const { bundles, store, close } = await setup();
    try {
      await bundles.applyText(`${TPP}\nusers: [{ username: vera, password: vera_password }]\n`, 'tpp.yaml');
      const vera = await store.getPrincipalByUsername('vera');
      assert.ok(vera);
      const grant = {
        id: '00000000-0000-4000-8000-000000000001',
        principalId: vera.id,
        createdAt: 0,
        expiresAt: Date.UTC(2030, 0, 1),
        revokedAt: null,
        lastRefreshedAt: null,
        refreshCount: 0,
        clientId: 'short-lived',
        scope: 'admin',
      };
      await store.createSession(grant);
      const report = await bundles.apply(
        { applications: [{ clientId: 'vcert-cli', scopes: 'certificate:manage,revoke;ssh:manage', name: 'VCert CLI' }], users: [{ username: 'vera' }] },
        { prune: true },
      );
      assert.deepEqual(report.applications, { ...zero, unchanged: 1, deleted: 1 });
      assert.deepEqual(report.scopeCatalog, { ...zero, deleted: 1 });
      assert.deepEqual((await store.listApplications()).map((a) => a.clientId), ['vcert-cli']);
      assert.equal(await store.getScopeCatalog(), null);
      assert.equal(await store.getSession(grant.id), null, 'the grant went with its application');
    } finally {
      await close();
    }
  });

  test('export includes them, and applying the export changes nothing', async () => {
    const { bundles, close } = await setup();
    try {
      await bundles.applyText(TPP, 'tpp.yaml');
      const exported = await bundles.export();
      assert.deepEqual(exported.applications?.map((a) => a.clientId), ['short-lived', 'vcert-cli']);
      assert.deepEqual(exported.scopeCatalog?.map((e) => e.scope), ['ssh', 'certificate', 'admin']);
      const report = await bundles.applyText(bundleToYaml(exported), 'exported.yaml', { prune: true });
      assert.deepEqual([report.applications, report.scopeCatalog], [{ ...zero, unchanged: 2 }, { ...zero, unchanged: 1 }]);
    } finally {
      await close();
    }
  });

  test('a store without applications or catalog exports neither section', async () => {
    const { bundles, close } = await setup();
    try {
      const exported = await bundles.export();
      assert.equal('applications' in exported, false);
      assert.equal('scopeCatalog' in exported, false);
    } finally {
      await close();
    }
  });
});
