// The hot paths answer credentials in use from memory (src/services/credential-cache.ts). These
// tests fail if a cache serves stale data: a revoked key or session, a disabled or deleted user,
// a changed role or policy must be refused or reflected on the next request when the change is
// made in this process, and once the change is noticed when another store handle (another
// process, another node) makes it. Expiry is checked against the clock at every use.

import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { loadConfig, type Config } from '../../src/config.ts';
import {
  AccountNotAuthorizedError,
  InvalidApiKeyError,
  InvalidTokenError,
  SessionExpiredError,
  TokenExpiredError,
} from '../../src/core/errors.ts';
import type { ApiKey } from '../../src/core/model.ts';
import { ManualClock } from '../../src/core/time.ts';
import type { AuthContext, Credential } from '../../src/services/context.ts';
import { CredentialCache } from '../../src/services/credential-cache.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import { Lru } from '../../src/services/lru.ts';
import { PolicyCache } from '../../src/services/policy-cache.ts';
import { openStore } from '../../src/store/open.ts';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { FAST_ARGON2, harness, type Harness } from '../helpers.ts';
import { createSchema, needPostgres } from '../pg.ts';

const BUNDLE = `
roles:
  - { name: pki-admin, scopes: ["admin:grantrights,viewlogs", "certificate:manage,revoke"] }
groups:
  - { name: Editors, roles: [observer] }
users:
  - { username: bob, password: bob_password, roles: [admin, expert] }
  - { username: alice, password: alice_password, roles: [user] }
  - { username: tppadmin, password: tppadmin_password, roles: [pki-admin] }
applications:
  - { clientId: vcert-cli, scopes: "admin:grantrights,viewlogs;certificate:manage,revoke" }
`;

const key = (secret: string): Credential => ({ kind: 'apikey', secret });
const token = (access: string): Credential => ({ kind: 'bearer', token: access });
const NEW_KEY = { expiresIn: null, scopes: null, note: null } as const;

async function principalId(services: Services, username: string): Promise<string> {
  return (await services.users.get(username)).id;
}

async function newKey(services: Services, username: string, params: { expiresIn: number | null; scopes: string[] | null } = NEW_KEY): Promise<{ secret: string; key: ApiKey }> {
  return services.apiKeys.createFor(await principalId(services, username), { ...params, note: null });
}

/** Authenticates twice: the second answer comes from memory when the cache holds the credential. */
async function twice(services: Services, credential: Credential): Promise<AuthContext> {
  await services.auth.authenticate(credential);
  return services.auth.authenticate(credential);
}

// ---- in this process: the next request sees the change --------------------------------------

describe('credential caches: changes made in this process show on the next request', () => {
  let h: Harness;
  const setup = async () => {
    h = await harness({ bundle: BUNDLE });
    return h.services;
  };
  const teardown = () => h.close();

  test('a deleted API key is refused', async () => {
    const s = await setup();
    try {
      const { secret, key: k } = await newKey(s, 'bob');
      assert.equal((await twice(s, key(secret))).principal?.username, 'bob');
      assert.ok(s.cache.sizes().apiKeys >= 1, 'the key is held in memory');
      await s.apiKeys.revokeFor(k.principalId, k.firstEight);
      await assert.rejects(s.auth.authenticate(key(secret)), InvalidApiKeyError);
    } finally {
      await teardown();
    }
  });

  test('a revoked session refuses its access token', async () => {
    const s = await setup();
    try {
      const pair = await s.sessions.login('local', 'alice', 'alice_password');
      const ctx = await twice(s, token(pair.accessToken));
      assert.equal(ctx.sessionId, pair.sessionId);
      assert.ok(s.cache.sizes().tokens >= 1 && s.cache.sizes().sessions >= 1, 'token and session are held in memory');
      await s.sessions.logout(ctx);
      await assert.rejects(s.auth.authenticate(token(pair.accessToken)), SessionExpiredError);
    } finally {
      await teardown();
    }
  });

  test('a disabled user is refused with a token and with a key; enabled again, the key works again', async () => {
    const s = await setup();
    try {
      const pair = await s.sessions.login('local', 'alice', 'alice_password');
      const { secret } = await newKey(s, 'alice');
      await twice(s, token(pair.accessToken));
      await twice(s, key(secret));
      await s.users.setDisabled('alice', true);
      await assert.rejects(s.auth.authenticate(token(pair.accessToken)), SessionExpiredError); // its sessions ended too
      await assert.rejects(s.auth.authenticate(key(secret)), InvalidApiKeyError);
      await s.users.setDisabled('alice', false);
      assert.equal((await s.auth.authenticate(key(secret))).principal?.username, 'alice');
    } finally {
      await teardown();
    }
  });

  test('a disabled user whose session was not ended is refused as disabled', async () => {
    const s = await setup();
    try {
      const pair = await s.sessions.login('local', 'alice', 'alice_password');
      await twice(s, token(pair.accessToken));
      await s.store.updatePrincipal(await principalId(s, 'alice'), { disabled: true, updatedAt: h.clock.now() });
      await assert.rejects(s.auth.authenticate(token(pair.accessToken)), AccountNotAuthorizedError);
    } finally {
      await teardown();
    }
  });

  test("a change of a user's roles shows in the scopes of its token and of its key", async () => {
    const s = await setup();
    try {
      const pair = await s.sessions.login('local', 'alice', 'alice_password');
      const { secret } = await newKey(s, 'alice');
      assert.deepEqual((await twice(s, token(pair.accessToken))).roles, ['user']);
      assert.deepEqual((await twice(s, key(secret))).roles, ['user']);
      await s.users.setRoles('alice', ['observer']);
      const byToken = await s.auth.authenticate(token(pair.accessToken));
      const byKey = await s.auth.authenticate(key(secret));
      assert.deepEqual(byToken.roles, ['observer']);
      assert.deepEqual(byKey.roles, ['observer']);
      assert.ok(!byToken.scopes.includes('write:queue:edit'), 'the scopes of the old role are gone');
      assert.deepEqual(byKey.scopes, byToken.scopes);
    } finally {
      await teardown();
    }
  });

  test("a change of a role's definition, of a group's roles and of a user's groups shows at once", async () => {
    const s = await setup();
    try {
      const pair = await s.sessions.login('local', 'alice', 'alice_password');
      const { secret } = await newKey(s, 'alice');
      await twice(s, token(pair.accessToken));
      await twice(s, key(secret));

      await s.bundles.applyText('roles:\n  - { name: user, scopes: [read:status, custom:scope] }\n', 'test');
      for (const ctx of [await s.auth.authenticate(token(pair.accessToken)), await s.auth.authenticate(key(secret))]) {
        assert.deepEqual(ctx.scopes, ['custom:scope', 'read:status']);
      }

      await s.store.updatePrincipal(await principalId(s, 'alice'), { groups: ['Editors'], updatedAt: h.clock.now() });
      assert.deepEqual((await s.auth.authenticate(key(secret))).roles, ['observer', 'user']);

      await s.store.putGroup({ name: 'Editors', roles: ['admin'], attributes: {} });
      assert.deepEqual((await s.auth.authenticate(token(pair.accessToken))).roles, ['admin', 'user']);
      assert.deepEqual((await s.auth.authenticate(key(secret))).roles, ['admin', 'user']);

      await s.store.deleteGroup('Editors');
      assert.deepEqual((await s.auth.authenticate(token(pair.accessToken))).roles, ['user']);
    } finally {
      await teardown();
    }
  });

  test('a key with its own scopes keeps them within the owner\u2019s current ones', async () => {
    const s = await setup();
    try {
      const { secret } = await newKey(s, 'bob', { expiresIn: null, scopes: ['read:status', 'write:queue:edit'] });
      assert.deepEqual((await twice(s, key(secret))).scopes, ['read:status', 'write:queue:edit']);
      await s.users.setRoles('bob', ['observer']);
      assert.deepEqual((await s.auth.authenticate(key(secret))).scopes, ['read:status']);
    } finally {
      await teardown();
    }
  });

  test('a deleted user: 401 with the same errors as without a cache', async () => {
    const s = await setup();
    try {
      const pair = await s.sessions.login('local', 'alice', 'alice_password');
      const { secret } = await newKey(s, 'alice');
      await twice(s, token(pair.accessToken));
      await twice(s, key(secret));
      await s.users.remove('alice');
      // the session went with the user (no event of its own): still "session expired"
      await assert.rejects(s.auth.authenticate(token(pair.accessToken)), SessionExpiredError);
      await assert.rejects(s.auth.authenticate(key(secret)), InvalidApiKeyError);
    } finally {
      await teardown();
    }
  });

  test('expiry is checked against the clock on every use: API key, access token, session', async () => {
    const s = await setup();
    try {
      const { secret } = await newKey(s, 'bob', { expiresIn: 60, scopes: null });
      await twice(s, key(secret));
      h.clock.advance(60_000);
      await assert.rejects(s.auth.authenticate(key(secret)), InvalidApiKeyError);

      const pair = await s.sessions.login('local', 'bob', 'bob_password');
      await twice(s, token(pair.accessToken));
      h.clock.advance(s.config.accessTokenTtl * 1000 - 1000);
      await s.auth.authenticate(token(pair.accessToken));
      h.clock.advance(1000);
      await assert.rejects(s.auth.authenticate(token(pair.accessToken)), TokenExpiredError);
    } finally {
      await teardown();
    }
  });

  test('a session that reaches its end refuses an access token that has not expired', async () => {
    h = await harness({ bundle: BUNDLE, config: { sessionMaxAge: 120, accessTokenTtl: 900 } });
    const s = h.services;
    try {
      const pair = await s.sessions.login('local', 'bob', 'bob_password');
      await twice(s, token(pair.accessToken));
      h.clock.advance(120_000);
      await assert.rejects(s.auth.authenticate(token(pair.accessToken)), SessionExpiredError);
    } finally {
      await teardown();
    }
  });

  test('a deleted signing key: its tokens are refused although they were verified before', async () => {
    const s = await setup();
    try {
      const pair = await s.sessions.login('local', 'bob', 'bob_password');
      await twice(s, token(pair.accessToken));
      const kid = (await s.keys.ring()).signingKid as string;
      await s.keys.rotate();
      await s.auth.authenticate(token(pair.accessToken)); // the retired key still verifies
      await s.store.deleteSigningKey(kid);
      await assert.rejects(s.auth.authenticate(token(pair.accessToken)), InvalidTokenError);
    } finally {
      await teardown();
    }
  });

  test('a Venafi grant revoked, or its user disabled, refuses its access token', async () => {
    const s = await setup();
    try {
      const grant = () =>
        s.tpp.authorize({ clientId: 'vcert-cli', username: 'tppadmin', password: 'tppadmin_password', scope: 'certificate:manage' });
      const first = await grant();
      await s.tpp.verify(first.accessToken);
      assert.equal((await s.tpp.verify(first.accessToken)).scope, 'certificate:manage');
      await s.tpp.revoke(first.accessToken);
      await assert.rejects(s.tpp.verify(first.accessToken), SessionExpiredError);

      const second = await grant();
      await s.tpp.verify(second.accessToken);
      await s.store.updatePrincipal(await principalId(s, 'tppadmin'), { disabled: true, updatedAt: h.clock.now() });
      await assert.rejects(s.tpp.verify(second.accessToken), AccountNotAuthorizedError);
      await s.store.updatePrincipal(await principalId(s, 'tppadmin'), { disabled: false, updatedAt: h.clock.now() });

      // the role loses the scope: the token confers nothing any more
      const third = await grant();
      await s.tpp.verify(third.accessToken);
      await s.bundles.applyText('roles:\n  - { name: pki-admin, scopes: ["admin:viewlogs"] }\n', 'test');
      await assert.rejects(s.tpp.verify(third.accessToken), /no longer holds/);

      // the application is removed: its grants and their tokens go with it
      await s.bundles.applyText('roles:\n  - { name: pki-admin, scopes: ["certificate:manage"] }\n', 'test');
      const fourth = await grant();
      await s.tpp.verify(fourth.accessToken);
      await s.applications.remove('vcert-cli');
      await assert.rejects(s.tpp.verify(fourth.accessToken), InvalidTokenError);
    } finally {
      await teardown();
    }
  });

  test("GET /apikey's latest use is the stored one once the batched times are written", async () => {
    const s = await setup();
    try {
      const { secret } = await newKey(s, 'bob');
      await twice(s, key(secret));
      const usedAt = h.clock.now();
      h.clock.advance(5000);
      await s.activity.flush();
      assert.equal((await s.apiKeys.info(secret)).latestActivity, usedAt);
    } finally {
      await teardown();
    }
  });
});

// ---- another store handle on the same SQLite file (another process) ---------------------------

/** Services over a second connection to the harness's database, as another process would have. */
async function otherHandle(h: Harness): Promise<{ services: Services; close: () => Promise<void> }> {
  const store = await openStore(h.services.config.databaseUrl, { pollIntervalMs: 0 });
  const services = await createServices(h.services.config, store, { clock: h.clock, ensureKeys: false });
  return { services, close: () => services.close() };
}

describe('credential caches: changes made through another SQLite connection', () => {
  const noticed = (h: Harness) => (h.services.store as SqliteStore).pollForeignWrites();

  test('a key deleted, a session ended, a user disabled, a role changed elsewhere: refused or reflected once noticed', async () => {
    const h = await harness({ bundle: BUNDLE });
    const other = await otherHandle(h);
    try {
      const s = h.services;
      const { secret, key: k } = await newKey(s, 'bob');
      const alice = await s.sessions.login('local', 'alice', 'alice_password');
      const bobPair = await s.sessions.login('local', 'bob', 'bob_password');
      await twice(s, key(secret));
      await twice(s, token(alice.accessToken));
      await twice(s, token(bobPair.accessToken));

      await other.services.apiKeys.revokeFor(k.principalId, k.firstEight);
      await other.services.sessions.logout(await other.services.auth.authenticate(token(alice.accessToken)));
      await other.services.users.setRoles('bob', ['observer']);
      noticed(h);
      await assert.rejects(s.auth.authenticate(key(secret)), InvalidApiKeyError);
      await assert.rejects(s.auth.authenticate(token(alice.accessToken)), SessionExpiredError);
      assert.deepEqual((await s.auth.authenticate(token(bobPair.accessToken))).roles, ['observer']);

      await other.services.users.setDisabled('bob', true);
      noticed(h);
      await assert.rejects(s.auth.authenticate(token(bobPair.accessToken)), SessionExpiredError);
    } finally {
      await other.close();
      await h.close();
    }
  });

  test('with polling on, the next request after a write by another process sees it (no waiting for the poller)', async () => {
    const h = await harness({ bundle: BUNDLE });
    // a poll interval far longer than the test: only the check made by requests can notice
    const store = await openStore(h.services.config.databaseUrl, { pollIntervalMs: 3_600_000 });
    const s = await createServices(h.services.config, store, { clock: h.clock, ensureKeys: false });
    const other = await otherHandle(h);
    try {
      const { secret, key: k } = await newKey(s, 'bob');
      const alice = await s.sessions.login('local', 'alice', 'alice_password');
      await twice(s, key(secret));
      await twice(s, token(alice.accessToken));
      await other.services.apiKeys.revokeFor(k.principalId, k.firstEight);
      await other.services.users.setRoles('alice', ['observer']);
      await new Promise((resolve) => setTimeout(resolve, 20)); // requests look at most every 10 ms
      await assert.rejects(s.auth.authenticate(key(secret)), InvalidApiKeyError);
      assert.deepEqual((await s.auth.authenticate(token(alice.accessToken))).roles, ['observer']);
    } finally {
      await other.close();
      await s.close();
      await h.close();
    }
  });

  test('the poller notices by itself', async () => {
    const h = await harness({ bundle: BUNDLE });
    // services of their own over a store that polls (the harness's does not)
    const store = await openStore(h.services.config.databaseUrl, { pollIntervalMs: 20 });
    const s = await createServices(h.services.config, store, { clock: h.clock, ensureKeys: false });
    const other = await otherHandle(h);
    try {
      const { secret, key: k } = await newKey(s, 'bob');
      await twice(s, key(secret));
      await other.services.apiKeys.revokeFor(k.principalId, k.firstEight);
      const refused = await eventually(async () => {
        try {
          await s.auth.authenticate(key(secret));
          return false;
        } catch (error) {
          return error instanceof InvalidApiKeyError;
        }
      });
      assert.ok(refused, 'the key deleted by another connection was refused once the poller noticed');
    } finally {
      await other.close();
      await s.close();
      await h.close();
    }
  });
});

/** Polls `check` until it is true or `limitMs` passed (a bound against hanging, not a timing claim). */
async function eventually(check: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return check();
}

// ---- another node on the same PostgreSQL database -------------------------------------------

describe('credential caches: changes made by another node on PostgreSQL', () => {
  test('a key deleted, a session ended, a role changed on another node: refused or reflected once notified', async (t: TestContext) => {
    if (!(await needPostgres(t))) return;
    const schema = await createSchema('gh_cache');
    const clock = new ManualClock(Date.UTC(2026, 10, 23, 12));
    const config: Config = loadConfig({ env: {}, flags: { databaseUrl: schema.url, logLevel: 'silent', ...FAST_ARGON2 } });
    const storeA = openPostgresStore({ url: schema.url });
    const storeB = openPostgresStore({ url: schema.url });
    let a: Services | null = null;
    let b: Services | null = null;
    try {
      await storeA.migrate();
      a = await createServices(config, storeA, { clock });
      b = await createServices(config, storeB, { clock });
      assert.ok(await storeA.listening());
      await a.bundles.applyText(BUNDLE, 'test');
      const { secret, key: k } = await newKey(a, 'bob');
      const alice = await a.sessions.login('local', 'alice', 'alice_password');
      const bob = await a.sessions.login('local', 'bob', 'bob_password');
      const sa = a;
      await twice(sa, key(secret));
      await twice(sa, token(alice.accessToken));
      await twice(sa, token(bob.accessToken));

      await b.apiKeys.revokeFor(k.principalId, k.firstEight);
      await b.sessions.logout(await b.auth.authenticate(token(alice.accessToken)));
      await b.users.setRoles('bob', ['observer']);
      const refusedOrReflected = await eventually(async () => {
        const keyRefused = await sa.auth.authenticate(key(secret)).then(
          () => false,
          (error: unknown) => error instanceof InvalidApiKeyError,
        );
        const sessionRefused = await sa.auth.authenticate(token(alice.accessToken)).then(
          () => false,
          (error: unknown) => error instanceof SessionExpiredError,
        );
        const roles = (await sa.auth.authenticate(token(bob.accessToken))).roles;
        return keyRefused && sessionRefused && roles.join() === 'observer';
      });
      assert.ok(refusedOrReflected, 'node A refused the key and the session and showed the new role');
    } finally {
      await a?.close();
      await b?.close();
      if (!a) await storeA.close();
      if (!b) await storeB.close();
      await schema.drop();
    }
  });
});

// ---- races, bounds --------------------------------------------------------------------------

describe('credential caches: races and bounds', () => {
  test('a read that raced with a change is not kept', async () => {
    const h = await harness({ bundle: BUNDLE });
    try {
      const { secret, key: k } = await newKey(h.services, 'bob');
      // a second set of services whose API-key reads wait until released
      let release: (() => void) | null = null;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow = new Proxy(h.services.store, {
        get(target, name, receiver) {
          if (name === 'getApiKeyBySecretHash') {
            return async (hash: string) => {
              const found = await target.getApiKeyBySecretHash(hash);
              await gate;
              return found;
            };
          }
          const value = Reflect.get(target, name, receiver) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const s = await createServices(h.services.config, slow, { clock: h.clock, ensureKeys: false });
      try {
        const inFlight = s.auth.authenticate(key(secret)); // reads the key, then waits
        await new Promise((resolve) => setImmediate(resolve));
        await h.services.apiKeys.revokeFor(k.principalId, k.firstEight); // the event arrives meanwhile
        (release as unknown as () => void)();
        await inFlight.catch(() => undefined); // began before the change: either answer is fine
        await assert.rejects(s.auth.authenticate(key(secret)), InvalidApiKeyError);
      } finally {
        await s.close().catch(() => undefined);
      }
    } finally {
      await h.close();
    }
  });

  test('every cache is bounded', async () => {
    const lru = new Lru<number, number>(10);
    for (let i = 0; i < 1000; i++) {
      lru.set(i, i);
      assert.ok(lru.size <= 10);
    }
    assert.equal(lru.get(999), 999, 'the newest entry is there');
    assert.equal(lru.get(0), undefined, 'the oldest is gone');

    const h = await harness({ bundle: BUNDLE });
    const policy = new PolicyCache(h.services.store);
    const cache = new CredentialCache(h.services.store, policy, 4);
    try {
      const bob = await principalId(h.services, 'bob');
      for (let i = 0; i < 20; i++) {
        const { key: k } = await newKey(h.services, 'bob');
        assert.ok(await cache.apiKey(k.secretHash));
      }
      assert.ok(await cache.principal(bob));
      const sizes = cache.sizes();
      for (const [name, size] of Object.entries(sizes)) assert.ok(size <= 4, `${name}: ${size} entries`);
      assert.ok(sizes.apiKeys > 0);
    } finally {
      cache.close();
      policy.close();
      await h.close();
    }
  });

  test('an entry used again survives the entries added after it', () => {
    const lru = new Lru<string, number>(4);
    lru.set('kept', 1);
    for (let i = 0; i < 50; i++) {
      assert.equal(lru.get('kept'), 1, `still there after ${i} others`);
      lru.set(`other-${i}`, i);
    }
    assert.equal(lru.delete('kept'), true);
    assert.equal(lru.get('kept'), undefined);
  });
});
