// The Store contract: every backend (SQLite, PostgreSQL) must pass these tests unchanged.
//
// `open()` must return a store over an EMPTY database (a fresh file, a fresh schema ...); the
// suite calls `migrate()` itself, so the database may be migrated already or not. `cleanup()`
// closes the store (which a test may have closed already) and removes the database. Change events may be delivered synchronously or
// later (e.g. through LISTEN/NOTIFY): the suite waits for them with a bounded timeout, and proves
// the absence of an event by waiting for a later marker event instead of sleeping.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ConflictError, StoreUnavailableError } from '../../src/core/errors.ts';
import type { ApiKey, Application, Group, Role, Session, SigningKey } from '../../src/core/model.ts';
import type { ChangeEvent, NewPrincipal, Store } from '../../src/store/store.ts';

export interface OpenedStore {
  store: Store;
  cleanup: () => Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const EVENT_TIMEOUT_MS = 5000;

// ---- fixtures ----------------------------------------------------------------------------

function uniq(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function newPrincipal(overrides: Partial<NewPrincipal> = {}): NewPrincipal {
  return { id: randomUUID(), type: 'user', username: uniq('user'), createdAt: T0, ...overrides };
}

function newSession(principalId: string, overrides: Partial<Session> = {}): Session {
  return {
    id: randomUUID(),
    principalId,
    createdAt: T0,
    expiresAt: T0 + 3_600_000,
    revokedAt: null,
    lastRefreshedAt: null,
    refreshCount: 0,
    clientId: null,
    scope: null,
    ...overrides,
  };
}

function newApplication(overrides: Partial<Application> = {}): Application {
  return {
    clientId: uniq('client'),
    name: null,
    scopes: 'certificate:manage,revoke',
    accessTokenTtl: 3600,
    grantTtl: 86400,
    allowRefresh: true,
    ...overrides,
  };
}

function hex(bytes: number): string {
  return Array.from({ length: bytes * 2 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
}

function newApiKey(principalId: string, overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    id: randomUUID(),
    principalId,
    firstEight: hex(4),
    secretHash: hex(32),
    scopes: ['inherit'],
    note: null,
    expiresAt: null,
    createdAt: T0,
    latestActivity: null,
    ...overrides,
  };
}

function newSigningKey(overrides: Partial<SigningKey> = {}): SigningKey {
  const kid = randomUUID();
  return {
    kid,
    alg: 'EdDSA',
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: hex(16), kid, alg: 'EdDSA', use: 'sig' },
    privateJwk: { kty: 'OKP', crv: 'Ed25519', x: hex(16), d: hex(16), kid, alg: 'EdDSA' },
    createdAt: T0,
    retiredAt: null,
    ...overrides,
  };
}

/** Collects a store's change events; `waitFor` resolves with the first matching one. */
function recorder(store: Store) {
  const events: ChangeEvent[] = [];
  const waiters: { match: (e: ChangeEvent) => boolean; resolve: (e: ChangeEvent) => void }[] = [];
  const off = store.onChange((event) => {
    events.push(event);
    for (const w of [...waiters]) {
      if (w.match(event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  return {
    events,
    off,
    has(match: (e: ChangeEvent) => boolean): boolean {
      return events.some(match);
    },
    async waitFor(match: (e: ChangeEvent) => boolean, what: string): Promise<ChangeEvent> {
      const seen = events.find(match);
      if (seen) return seen;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await new Promise<ChangeEvent>((resolve, reject) => {
          waiters.push({ match, resolve });
          timer = setTimeout(
            () => reject(new Error(`no ${what} event within ${EVENT_TIMEOUT_MS} ms; got ${JSON.stringify(events)}`)),
            EVENT_TIMEOUT_MS,
          );
        });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

const isPolicy = (e: ChangeEvent) => e.kind === 'policy';
const isKeys = (e: ChangeEvent) => e.kind === 'keys';
const isPrincipal = (id: string) => (e: ChangeEvent) => e.kind === 'principal' && e.id === id;
const isSession = (id: string) => (e: ChangeEvent) => e.kind === 'session' && e.id === id;
const isApiKey = (hash: string) => (e: ChangeEvent) => e.kind === 'apikey' && e.secretHash === hash;

/** Marker write whose event arrives after every event of the writes before it. */
async function marker(store: Store, events: ReturnType<typeof recorder>): Promise<void> {
  const p = await store.createPrincipal(newPrincipal({ username: uniq('marker') }));
  await events.waitFor(isPrincipal(p.id), 'marker principal');
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

// ---- the suite ---------------------------------------------------------------------------

export function storeContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(name, () => {
    /** A test over a fresh, migrated store. */
    const it = (title: string, body: (store: Store) => Promise<void>): void => {
      test(title, async () => {
        const { store, cleanup } = await open();
        try {
          await store.migrate();
          await body(store);
        } finally {
          await cleanup();
        }
      });
    };

    // ---- lifecycle ----------------------------------------------------------------------

    describe('lifecycle', () => {
      test('migrate() applies the schema once; a second call applies nothing', async () => {
        const { store, cleanup } = await open();
        try {
          const first = await store.migrate();
          assert.ok(first.current > 0, 'a schema version is reported');
          assert.ok(first.applied.every((v) => v <= first.current));
          const second = await store.migrate();
          assert.deepEqual(second.applied, []);
          assert.equal(second.current, first.current);
          // the schema works after both calls
          const p = await store.createPrincipal(newPrincipal());
          assert.equal((await store.getPrincipal(p.id))?.username, p.username);
        } finally {
          await cleanup();
        }
      });

      it('ping() answers on a working database', async (store) => {
        await store.ping();
        assert.ok(store.backend === 'sqlite' || store.backend === 'postgres');
      });

      it('after close() calls fail with StoreUnavailableError; closing again is harmless', async (store) => {
        await store.putRole({ name: 'before-close', scopes: [], description: null });
        await store.close();
        await store.close();
        await assert.rejects(store.ping(), StoreUnavailableError);
        await assert.rejects(store.getRole('before-close'), StoreUnavailableError);
        await assert.rejects(store.putRole({ name: 'after-close', scopes: [], description: null }), StoreUnavailableError);
      });
    });

    // ---- principals ---------------------------------------------------------------------

    describe('principals', () => {
      it('createPrincipal returns the stored record with defaults filled in', async (store) => {
        const input = newPrincipal({ username: 'alice' });
        const created = await store.createPrincipal(input);
        assert.deepEqual(created, {
          id: input.id,
          type: 'user',
          username: 'alice',
          email: null,
          passwordHash: null,
          disabled: false,
          admin: false,
          ipFilter: null,
          roles: [],
          groups: [],
          createdAt: T0,
          updatedAt: T0,
        });
        assert.deepEqual(await store.getPrincipal(input.id), created);
        assert.deepEqual(await store.getPrincipalByUsername('alice'), created);
      });

      it('every field round-trips; roles and groups come back sorted without duplicates', async (store) => {
        const input = newPrincipal({
          type: 'service',
          username: 'svc-backup',
          email: 'ops@example.org',
          passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
          disabled: true,
          admin: true,
          ipFilter: '203.0.113.0/24',
          roles: ['user', 'admin', 'user'],
          groups: ['Editors', 'Auditors', 'Editors'],
        });
        const created = await store.createPrincipal(input);
        assert.equal(created.type, 'service');
        assert.equal(created.email, 'ops@example.org');
        assert.equal(created.passwordHash, input.passwordHash);
        assert.equal(created.disabled, true);
        assert.equal(created.admin, true);
        assert.equal(created.ipFilter, '203.0.113.0/24');
        assert.deepEqual(created.roles, ['admin', 'user']);
        assert.deepEqual(created.groups, ['Auditors', 'Editors']);
        assert.deepEqual(await store.getPrincipal(input.id), created);
      });

      it('unknown ids and usernames read as null', async (store) => {
        assert.equal(await store.getPrincipal(randomUUID()), null);
        assert.equal(await store.getPrincipalByUsername('nobody-here'), null);
        assert.equal(await store.updatePrincipal(randomUUID(), { email: 'x@example.org', updatedAt: T0 }), null);
        assert.equal(await store.deletePrincipal(randomUUID()), false);
      });

      it('a second principal with the same username is a ConflictError and leaves nothing behind', async (store) => {
        const first = await store.createPrincipal(newPrincipal({ username: 'bob', roles: ['user'] }));
        const dupId = randomUUID();
        await assert.rejects(
          store.createPrincipal(newPrincipal({ id: dupId, username: 'bob', roles: ['admin'], groups: ['G'] })),
          ConflictError,
        );
        assert.equal(await store.getPrincipal(dupId), null);
        assert.deepEqual(await store.getPrincipalByUsername('bob'), first);
        assert.equal((await store.listPrincipals()).length, 1);
      });

      it('a second principal with the same id is a ConflictError', async (store) => {
        const first = await store.createPrincipal(newPrincipal());
        await assert.rejects(store.createPrincipal(newPrincipal({ id: first.id })), ConflictError);
      });

      it('updatePrincipal changes only the fields it is given', async (store) => {
        const created = await store.createPrincipal(
          newPrincipal({ email: 'a@example.org', ipFilter: '10.0.0.0/8', roles: ['user'], groups: ['G1'] }),
        );
        const updated = await store.updatePrincipal(created.id, { admin: true, updatedAt: T0 + 5 });
        assert.deepEqual(updated, { ...created, admin: true, updatedAt: T0 + 5 });

        const cleared = await store.updatePrincipal(created.id, {
          email: null,
          ipFilter: null,
          passwordHash: 'h',
          disabled: true,
          roles: ['observer', 'expert'],
          updatedAt: T0 + 9,
        });
        assert.deepEqual(cleared, {
          ...created,
          email: null,
          ipFilter: null,
          passwordHash: 'h',
          disabled: true,
          admin: true,
          roles: ['expert', 'observer'],
          groups: ['G1'],
          updatedAt: T0 + 9,
        });
        const regrouped = await store.updatePrincipal(created.id, { groups: [], updatedAt: T0 + 10 });
        assert.deepEqual(regrouped?.groups, []);
        assert.deepEqual(regrouped?.roles, ['expert', 'observer']);
        assert.deepEqual(await store.getPrincipal(created.id), regrouped);
      });

      it('deletePrincipal removes it once', async (store) => {
        const p = await store.createPrincipal(newPrincipal({ roles: ['user'] }));
        assert.equal(await store.deletePrincipal(p.id), true);
        assert.equal(await store.getPrincipal(p.id), null);
        assert.equal(await store.getPrincipalByUsername(p.username), null);
        assert.equal(await store.deletePrincipal(p.id), false);
        // the username is free again
        const again = await store.createPrincipal(newPrincipal({ username: p.username }));
        assert.deepEqual(again.roles, []);
      });

      it('listPrincipals sorts by username and pages by keyset', async (store) => {
        const names = ['u04', 'u02', 'u05', 'u01', 'u03'];
        for (const username of names) await store.createPrincipal(newPrincipal({ username, roles: ['user'] }));
        const all = await store.listPrincipals();
        assert.deepEqual(
          all.map((p) => p.username),
          ['u01', 'u02', 'u03', 'u04', 'u05'],
        );
        assert.deepEqual(all[0]?.roles, ['user']);

        const pages: string[][] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.listPrincipals({ after, limit: 2 });
          if (page.length === 0) break;
          assert.ok(page.length <= 2);
          pages.push(page.map((p) => p.username));
          after = page[page.length - 1]?.username;
        }
        assert.deepEqual(pages, [['u01', 'u02'], ['u03', 'u04'], ['u05']]);
        assert.deepEqual(
          (await store.listPrincipals({ after: 'u03' })).map((p) => p.username),
          ['u04', 'u05'],
        );
        assert.deepEqual(await store.listPrincipals({ after: 'u05', limit: 10 }), []);
      });

      it('listPrincipals on an empty store is empty', async (store) => {
        assert.deepEqual(await store.listPrincipals(), []);
        assert.deepEqual(await store.listPrincipals({ limit: 5 }), []);
      });
    });

    // ---- identities ---------------------------------------------------------------------

    describe('identities', () => {
      it('upsertIdentity inserts, then updates the same provider + external id', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        await store.upsertIdentity({ provider: 'local', externalId: p.username, principalId: p.id, latestLogin: null });
        await store.upsertIdentity({ provider: 'github', externalId: '42', principalId: p.id, latestLogin: T0 });
        assert.deepEqual(await store.listIdentities(p.id), [
          { provider: 'github', externalId: '42', principalId: p.id, latestLogin: T0 },
          { provider: 'local', externalId: p.username, principalId: p.id, latestLogin: null },
        ]);
        await store.upsertIdentity({ provider: 'local', externalId: p.username, principalId: p.id, latestLogin: T0 + 7 });
        const after = await store.listIdentities(p.id);
        assert.equal(after.length, 2);
        assert.deepEqual(
          after.find((i) => i.provider === 'local'),
          { provider: 'local', externalId: p.username, principalId: p.id, latestLogin: T0 + 7 },
        );
      });

      it('an upsert can move an identity to another principal', async (store) => {
        const a = await store.createPrincipal(newPrincipal());
        const b = await store.createPrincipal(newPrincipal());
        await store.upsertIdentity({ provider: 'oidc', externalId: 'sub-1', principalId: a.id, latestLogin: T0 });
        await store.upsertIdentity({ provider: 'oidc', externalId: 'sub-1', principalId: b.id, latestLogin: T0 + 1 });
        assert.deepEqual(await store.listIdentities(a.id), []);
        assert.deepEqual(await store.listIdentities(b.id), [
          { provider: 'oidc', externalId: 'sub-1', principalId: b.id, latestLogin: T0 + 1 },
        ]);
      });

      it('listIdentities of a principal without identities is empty', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        assert.deepEqual(await store.listIdentities(p.id), []);
      });
    });

    // ---- roles and groups ---------------------------------------------------------------

    describe('roles and groups', () => {
      it('putRole inserts and replaces; getRole, listRoles, deleteRole', async (store) => {
        const reader: Role = { name: 'reader', scopes: ['read:queue', 'read:status'], description: 'reads' };
        const writer: Role = { name: 'writer', scopes: ['write:queue:edit'], description: null };
        await store.putRole(writer);
        await store.putRole(reader);
        assert.deepEqual(await store.getRole('reader'), reader);
        assert.deepEqual(await store.listRoles(), [reader, writer]);

        const replaced: Role = { name: 'reader', scopes: ['read:history'], description: null };
        await store.putRole(replaced);
        assert.deepEqual(await store.getRole('reader'), replaced);
        assert.equal((await store.listRoles()).length, 2);

        assert.equal(await store.deleteRole('reader'), true);
        assert.equal(await store.getRole('reader'), null);
        assert.equal(await store.deleteRole('reader'), false);
        assert.deepEqual(await store.listRoles(), [writer]);
      });

      it('a role may have no scopes', async (store) => {
        await store.putRole({ name: 'empty', scopes: [], description: null });
        assert.deepEqual(await store.getRole('empty'), { name: 'empty', scopes: [], description: null });
      });

      it('putGroup keeps roles and nested attributes; getGroup, listGroups, deleteGroup', async (store) => {
        const editors: Group = {
          name: 'Editors',
          roles: ['ROLE_API_DATA_READ', 'user'],
          attributes: {
            entityGroups: { 'java-virtual-machine': 'READ' },
            allEntitiesRead: false,
            allEntitiesWrite: true,
            portals: ['ATSD', 'Other'],
            description: 'edits',
          },
        };
        const auditors: Group = { name: 'Auditors', roles: [], attributes: {} };
        await store.putGroup(editors);
        await store.putGroup(auditors);
        assert.deepEqual(await store.getGroup('Editors'), editors);
        assert.deepEqual(await store.listGroups(), [auditors, editors]);

        const changed: Group = { name: 'Editors', roles: ['observer'], attributes: { allPortals: true } };
        await store.putGroup(changed);
        assert.deepEqual(await store.getGroup('Editors'), changed);

        assert.equal(await store.deleteGroup('Auditors'), true);
        assert.equal(await store.getGroup('Auditors'), null);
        assert.equal(await store.deleteGroup('Auditors'), false);
        assert.deepEqual(await store.listGroups(), [changed]);
      });

      it('deleteGroup removes the memberships of that group only', async (store) => {
        await store.putGroup({ name: 'G1', roles: ['user'], attributes: {} });
        await store.putGroup({ name: 'G2', roles: [], attributes: {} });
        const a = await store.createPrincipal(newPrincipal({ groups: ['G1', 'G2'] }));
        const b = await store.createPrincipal(newPrincipal({ groups: ['G1'] }));
        assert.equal(await store.deleteGroup('G1'), true);
        assert.deepEqual((await store.getPrincipal(a.id))?.groups, ['G2']);
        assert.deepEqual((await store.getPrincipal(b.id))?.groups, []);
        // a group created again with the same name starts without members
        await store.putGroup({ name: 'G1', roles: [], attributes: {} });
        assert.deepEqual((await store.getPrincipal(b.id))?.groups, []);
      });
    });

    // ---- sessions and refresh tokens -------------------------------------------------------

    describe('sessions', () => {
      it('createSession and getSession round-trip', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const s = newSession(p.id, { lastRefreshedAt: T0 + 1, refreshCount: 3 });
        await store.createSession(s);
        assert.deepEqual(await store.getSession(s.id), s);
        assert.equal(await store.getSession(randomUUID()), null);
      });

      it('listSessions lists a principal’s sessions; activeAt leaves out revoked and expired ones', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const other = await store.createPrincipal(newPrincipal());
        const live = newSession(p.id, { createdAt: T0, expiresAt: T0 + 1000 });
        const expired = newSession(p.id, { createdAt: T0 + 1, expiresAt: T0 + 100 });
        const boundary = newSession(p.id, { createdAt: T0 + 2, expiresAt: T0 + 500 });
        const revoked = newSession(p.id, { createdAt: T0 + 3, expiresAt: T0 + 1000, revokedAt: T0 + 4 });
        const foreign = newSession(other.id);
        for (const s of [revoked, boundary, live, expired, foreign]) await store.createSession(s);

        assert.deepEqual(
          (await store.listSessions(p.id)).map((s) => s.id),
          [live.id, expired.id, boundary.id, revoked.id],
        );
        // expiresAt == activeAt counts as expired
        assert.deepEqual(
          (await store.listSessions(p.id, { activeAt: T0 + 500 })).map((s) => s.id),
          [live.id],
        );
        assert.deepEqual(
          (await store.listSessions(p.id, { activeAt: T0 + 50 })).map((s) => s.id),
          [live.id, expired.id, boundary.id],
        );
        assert.deepEqual(await store.listSessions(randomUUID()), []);
      });

      it('revokeSession revokes once', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const s = newSession(p.id);
        await store.createSession(s);
        assert.equal(await store.revokeSession(s.id, T0 + 10), true);
        assert.equal((await store.getSession(s.id))?.revokedAt, T0 + 10);
        assert.equal(await store.revokeSession(s.id, T0 + 20), false);
        assert.equal((await store.getSession(s.id))?.revokedAt, T0 + 10, 'the first revocation time stays');
        assert.equal(await store.revokeSession(randomUUID(), T0), false);
      });

      it('revokeAllSessions revokes the principal’s open sessions and counts them', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const other = await store.createPrincipal(newPrincipal());
        const a = newSession(p.id);
        const b = newSession(p.id);
        const already = newSession(p.id, { revokedAt: T0 + 1 });
        const foreign = newSession(other.id);
        for (const s of [a, b, already, foreign]) await store.createSession(s);
        assert.equal(await store.revokeAllSessions(p.id, T0 + 50), 2);
        assert.equal((await store.getSession(a.id))?.revokedAt, T0 + 50);
        assert.equal((await store.getSession(b.id))?.revokedAt, T0 + 50);
        assert.equal((await store.getSession(already.id))?.revokedAt, T0 + 1);
        assert.equal((await store.getSession(foreign.id))?.revokedAt, null);
        assert.equal(await store.revokeAllSessions(p.id, T0 + 60), 0);
      });

      it('recordSessionRefreshes adds to the counters and keeps the latest time', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const s = newSession(p.id);
        const t = newSession(p.id);
        await store.createSession(s);
        await store.createSession(t);
        await store.recordSessionRefreshes(new Map([[s.id, { count: 2, at: T0 + 200 }]]));
        await store.recordSessionRefreshes(
          new Map([
            [s.id, { count: 3, at: T0 + 100 }], // an older time (another node's batch) does not move it back
            [t.id, { count: 1, at: T0 + 50 }],
            ['no-such-session', { count: 1, at: T0 + 50 }],
          ]),
        );
        const after = await store.getSession(s.id);
        assert.equal(after?.refreshCount, 5);
        assert.equal(after?.lastRefreshedAt, T0 + 200);
        const other = await store.getSession(t.id);
        assert.equal(other?.refreshCount, 1);
        assert.equal(other?.lastRefreshedAt, T0 + 50);
        await store.recordSessionRefreshes(new Map());
        assert.equal((await store.getSession(s.id))?.refreshCount, 5);
      });

      it('refresh tokens: insert, get, and markRefreshTokenUsed succeeds only once', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const s = newSession(p.id);
        await store.createSession(s);
        const token = { tokenHash: hex(32), sessionId: s.id, expiresAt: T0 + 1000, usedAt: null };
        await store.insertRefreshToken(token);
        assert.deepEqual(await store.getRefreshToken(token.tokenHash), token);
        assert.equal(await store.getRefreshToken(hex(32)), null);

        assert.equal(await store.markRefreshTokenUsed(token.tokenHash, T0 + 5), true);
        assert.equal(await store.markRefreshTokenUsed(token.tokenHash, T0 + 6), false);
        assert.equal((await store.getRefreshToken(token.tokenHash))?.usedAt, T0 + 5);
        assert.equal(await store.markRefreshTokenUsed(hex(32), T0), false);
      });

      it('listRefreshTokens lists a session’s tokens, used or not, by expiry', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const s = newSession(p.id);
        const other = newSession(p.id);
        await store.createSession(s);
        await store.createSession(other);
        const later = { tokenHash: hex(32), sessionId: s.id, expiresAt: T0 + 2000, usedAt: null };
        const earlier = { tokenHash: hex(32), sessionId: s.id, expiresAt: T0 + 1000, usedAt: T0 + 3 };
        const foreign = { tokenHash: hex(32), sessionId: other.id, expiresAt: T0 + 1000, usedAt: null };
        for (const t of [later, earlier, foreign]) await store.insertRefreshToken(t);
        assert.deepEqual(await store.listRefreshTokens(s.id), [earlier, later]);
        assert.deepEqual(await store.listRefreshTokens(other.id), [foreign]);
        assert.deepEqual(await store.listRefreshTokens(randomUUID()), []);
      });

      it('of two concurrent markRefreshTokenUsed calls exactly one wins', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const s = newSession(p.id);
        await store.createSession(s);
        const tokenHash = hex(32);
        await store.insertRefreshToken({ tokenHash, sessionId: s.id, expiresAt: T0 + 1000, usedAt: null });
        const results = await Promise.all([
          store.markRefreshTokenUsed(tokenHash, T0 + 1),
          store.markRefreshTokenUsed(tokenHash, T0 + 2),
          store.markRefreshTokenUsed(tokenHash, T0 + 3),
        ]);
        assert.equal(results.filter(Boolean).length, 1);
      });
    });

    // ---- Venafi TPP grants: applications, access tokens, scope catalog -------------------

    describe('applications, access tokens and the scope catalog', () => {
      it('putApplication creates and then updates; get and list (sorted) round-trip', async (store) => {
        const b = newApplication({ clientId: 'vcert-sdk', name: 'VCert SDK', allowRefresh: false });
        const a = newApplication({ clientId: 'vcert-cli' });
        await store.putApplication(b);
        await store.putApplication(a);
        assert.deepEqual(await store.getApplication('vcert-sdk'), b);
        assert.deepEqual(await store.listApplications(), [a, b]);
        const changed = { ...a, name: 'CLI', scopes: 'ssh:manage', accessTokenTtl: 60, grantTtl: 120, allowRefresh: false };
        await store.putApplication(changed);
        assert.deepEqual(await store.getApplication('vcert-cli'), changed);
        assert.equal(await store.getApplication('nope'), null);
        assert.equal((await store.listApplications()).length, 2);
      });

      it('a grant is a session with a client id and scope; its access tokens round-trip', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const app = newApplication();
        await store.putApplication(app);
        const grant = newSession(p.id, { clientId: app.clientId, scope: 'certificate:manage' });
        await store.createSession(grant);
        assert.deepEqual(await store.getSession(grant.id), grant);
        const t2 = { tokenHash: hex(32), sessionId: grant.id, issuedAt: T0 + 2, expiresAt: T0 + 3600 };
        const t1 = { tokenHash: hex(32), sessionId: grant.id, issuedAt: T0 + 1, expiresAt: T0 + 3600 };
        await store.insertAccessToken(t2);
        await store.insertAccessToken(t1);
        assert.deepEqual(await store.getAccessToken(t1.tokenHash), t1);
        assert.equal(await store.getAccessToken(hex(32)), null);
        assert.deepEqual(await store.listAccessTokens(grant.id), [t1, t2]);
        assert.deepEqual(await store.listAccessTokens(randomUUID()), []);
        await assert.rejects(store.insertAccessToken({ ...t1 }), ConflictError);
      });

      it('a grant of an unknown application, or a token of an unknown session, is a ConflictError', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        await assert.rejects(store.createSession(newSession(p.id, { clientId: 'no-such-client', scope: 'admin' })), ConflictError);
        await assert.rejects(
          store.insertAccessToken({ tokenHash: hex(32), sessionId: randomUUID(), issuedAt: T0, expiresAt: T0 + 1 }),
          ConflictError,
        );
      });

      it('deleteApplication deletes once, with its grants and their tokens; other sessions stay', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const app = newApplication();
        const other = newApplication();
        await store.putApplication(app);
        await store.putApplication(other);
        const grant = newSession(p.id, { clientId: app.clientId, scope: 'certificate' });
        const otherGrant = newSession(p.id, { clientId: other.clientId, scope: 'certificate' });
        const plain = newSession(p.id);
        for (const s of [grant, otherGrant, plain]) await store.createSession(s);
        const access = { tokenHash: hex(32), sessionId: grant.id, issuedAt: T0, expiresAt: T0 + 10 };
        const refresh = { tokenHash: hex(32), sessionId: grant.id, expiresAt: T0 + 10, usedAt: null };
        await store.insertAccessToken(access);
        await store.insertRefreshToken(refresh);
        const events = recorder(store);
        try {
          assert.equal(await store.deleteApplication(app.clientId), true);
          await events.waitFor(isPolicy, 'policy (deleteApplication)');
          await events.waitFor(isSession(grant.id), 'session (grant of a deleted application)');
        } finally {
          events.off();
        }
        assert.equal(await store.deleteApplication(app.clientId), false);
        assert.equal(await store.getApplication(app.clientId), null);
        assert.equal(await store.getSession(grant.id), null);
        assert.equal(await store.getAccessToken(access.tokenHash), null);
        assert.equal(await store.getRefreshToken(refresh.tokenHash), null);
        assert.deepEqual(await store.getSession(otherGrant.id), otherGrant);
        assert.deepEqual(await store.getSession(plain.id), plain);
      });

      it('deleting a principal or a session deletes the access tokens of its grants', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const app = newApplication();
        await store.putApplication(app);
        const grant = newSession(p.id, { clientId: app.clientId, scope: 'certificate' });
        await store.createSession(grant);
        const access = { tokenHash: hex(32), sessionId: grant.id, issuedAt: T0, expiresAt: T0 + 10 };
        await store.insertAccessToken(access);
        assert.equal(await store.deletePrincipal(p.id), true);
        assert.equal(await store.getAccessToken(access.tokenHash), null);
        assert.deepEqual(await store.getApplication(app.clientId), app, 'the application stays');
      });

      it('the scope catalog is null until stored, keeps its order, and null puts the default back', async (store) => {
        assert.equal(await store.getScopeCatalog(), null);
        const catalog = [
          { scope: 'ssh', restrictions: ['manage', 'approve'] },
          { scope: 'admin', restrictions: [] },
          { scope: 'certificate', restrictions: ['revoke'] },
        ];
        await store.putScopeCatalog(catalog);
        assert.deepEqual(await store.getScopeCatalog(), catalog);
        await store.putScopeCatalog([{ scope: 'agent', restrictions: ['delete'] }]);
        assert.deepEqual(await store.getScopeCatalog(), [{ scope: 'agent', restrictions: ['delete'] }]);
        await store.putScopeCatalog(null);
        assert.equal(await store.getScopeCatalog(), null);
      });

      it('application and catalog writes report a policy change', async (store) => {
        const events = recorder(store);
        try {
          const app = newApplication();
          const steps: [string, () => Promise<unknown>][] = [
            ['putApplication', () => store.putApplication(app)],
            ['putScopeCatalog', () => store.putScopeCatalog([{ scope: 'admin', restrictions: [] }])],
            ['putScopeCatalog(null)', () => store.putScopeCatalog(null)],
            ['deleteApplication', () => store.deleteApplication(app.clientId)],
          ];
          for (const [what, step] of steps) {
            events.events.length = 0;
            await step();
            await events.waitFor(isPolicy, `policy (${what})`);
          }
        } finally {
          events.off();
        }
      });

      it('applications, grants and the catalog written in a rolled-back transaction are not there', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const app = newApplication();
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.putApplication(app);
            const grant = newSession(p.id, { clientId: app.clientId, scope: 'certificate' });
            await tx.createSession(grant);
            await tx.insertAccessToken({ tokenHash: hex(32), sessionId: grant.id, issuedAt: T0, expiresAt: T0 + 1 });
            await tx.putScopeCatalog([{ scope: 'admin', restrictions: [] }]);
            throw new Error('rollback');
          }),
          /rollback/,
        );
        assert.deepEqual(await store.listApplications(), []);
        assert.deepEqual(await store.listSessions(p.id), []);
        assert.equal(await store.getScopeCatalog(), null);
      });
    });

    // ---- API keys -----------------------------------------------------------------------

    describe('API keys', () => {
      it('createApiKey, getApiKeyBySecretHash and listApiKeys round-trip', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const other = await store.createPrincipal(newPrincipal());
        const k1 = newApiKey(p.id, { scopes: ['read:status', 'read:queue'], note: 'ci', expiresAt: T0 + 99, createdAt: T0 + 1 });
        const k2 = newApiKey(p.id, { createdAt: T0 + 2 });
        const k3 = newApiKey(other.id);
        for (const k of [k2, k1, k3]) await store.createApiKey(k);
        assert.deepEqual(await store.getApiKeyBySecretHash(k1.secretHash), k1);
        assert.equal(await store.getApiKeyBySecretHash(hex(32)), null);
        assert.deepEqual(await store.listApiKeys(p.id), [k1, k2]);
        assert.deepEqual(await store.listApiKeys(other.id), [k3]);
        assert.deepEqual(await store.listApiKeys(randomUUID()), []);
      });

      it('a second key with the same secret hash is a ConflictError', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const k = newApiKey(p.id);
        await store.createApiKey(k);
        await assert.rejects(store.createApiKey(newApiKey(p.id, { secretHash: k.secretHash })), ConflictError);
      });

      it('findApiKeyByFirstEight looks only among the principal’s keys', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const other = await store.createPrincipal(newPrincipal());
        const mine = newApiKey(p.id, { firstEight: 'abcd1234' });
        const theirs = newApiKey(other.id, { firstEight: 'ffff0000' });
        await store.createApiKey(mine);
        await store.createApiKey(theirs);
        assert.deepEqual(await store.findApiKeyByFirstEight(p.id, 'abcd1234'), mine);
        assert.equal(await store.findApiKeyByFirstEight(p.id, 'ffff0000'), null);
        assert.equal(await store.findApiKeyByFirstEight(other.id, 'abcd1234'), null);
        assert.equal(await store.findApiKeyByFirstEight(p.id, '00000000'), null);
      });

      it('deleteApiKey deletes once', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const k = newApiKey(p.id);
        const keep = newApiKey(p.id, { createdAt: T0 + 1 });
        await store.createApiKey(k);
        await store.createApiKey(keep);
        assert.equal(await store.deleteApiKey(k.id), true);
        assert.equal(await store.getApiKeyBySecretHash(k.secretHash), null);
        assert.equal(await store.deleteApiKey(k.id), false);
        assert.deepEqual(await store.listApiKeys(p.id), [keep]);
      });

      it('touchApiKeys only ever moves latest_activity forward', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const a = newApiKey(p.id);
        const b = newApiKey(p.id, { latestActivity: T0 + 500 });
        await store.createApiKey(a);
        await store.createApiKey(b);
        await store.touchApiKeys(
          new Map([
            [a.id, T0 + 100],
            [b.id, T0 + 400], // older than what is stored: ignored
            [randomUUID(), T0 + 100], // unknown key: ignored
          ]),
        );
        assert.equal((await store.getApiKeyBySecretHash(a.secretHash))?.latestActivity, T0 + 100);
        assert.equal((await store.getApiKeyBySecretHash(b.secretHash))?.latestActivity, T0 + 500);
        await store.touchApiKeys(new Map([[a.id, T0 + 50]]));
        assert.equal((await store.getApiKeyBySecretHash(a.secretHash))?.latestActivity, T0 + 100);
        await store.touchApiKeys(new Map([[a.id, T0 + 150], [b.id, T0 + 600]]));
        assert.equal((await store.getApiKeyBySecretHash(a.secretHash))?.latestActivity, T0 + 150);
        assert.equal((await store.getApiKeyBySecretHash(b.secretHash))?.latestActivity, T0 + 600);
        await store.touchApiKeys(new Map());
        assert.equal((await store.getApiKeyBySecretHash(a.secretHash))?.latestActivity, T0 + 150);
      });
    });

    // ---- holdings -----------------------------------------------------------------------

    describe('listHoldings', () => {
      it('answers exactly what listIdentities, listApiKeys and listSessions with activeAt answer', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const other = await store.createPrincipal(newPrincipal());
        await store.upsertIdentity({ provider: 'local', externalId: p.username, principalId: p.id, latestLogin: T0 + 9 });
        await store.upsertIdentity({ provider: 'github', externalId: 'x"y\\z ü 🔑', principalId: p.id, latestLogin: null });
        await store.upsertIdentity({ provider: 'local', externalId: other.username, principalId: other.id, latestLogin: null });
        const keys = [
          newApiKey(p.id, { createdAt: T0 + 2, scopes: ['read:status', 'read:queue'], note: "O'Brien's key; --", expiresAt: T0 + 99 }),
          newApiKey(p.id, { createdAt: T0 + 1, latestActivity: T0 + 5 }),
          newApiKey(p.id, { createdAt: T0 + 1, note: '' }),
          newApiKey(other.id),
        ];
        for (const k of keys) await store.createApiKey(k);
        const sessions = [
          newSession(p.id, { createdAt: T0 + 3, expiresAt: T0 + 1000, lastRefreshedAt: T0 + 4, refreshCount: 2 }),
          newSession(p.id, { createdAt: T0, expiresAt: T0 + 1000, clientId: null, scope: null }),
          newSession(p.id, { createdAt: T0 + 1, expiresAt: T0 + 100 }), // expired at T0 + 100
          newSession(p.id, { createdAt: T0 + 2, expiresAt: T0 + 1000, revokedAt: T0 + 3 }),
          newSession(other.id),
        ];
        for (const s of sessions) await store.createSession(s);

        for (const at of [T0 + 50, T0 + 100, T0 + 5000]) {
          const holdings = await store.listHoldings(p.id, at);
          assert.deepEqual(holdings, {
            identities: await store.listIdentities(p.id),
            apiKeys: await store.listApiKeys(p.id),
            sessions: await store.listSessions(p.id, { activeAt: at }),
          });
        }
        const now = await store.listHoldings(p.id, T0 + 100);
        assert.equal(now.identities.length, 2);
        assert.equal(now.apiKeys.length, 3);
        assert.deepEqual(now.sessions.map((s) => s.id), [sessions[1]?.id, sessions[0]?.id]);
        assert.deepEqual(now.apiKeys.find((k) => k.id === keys[0]?.id), keys[0]);
      });

      it('an unknown principal, or one holding nothing, has empty lists', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const empty = { identities: [], apiKeys: [], sessions: [] };
        assert.deepEqual(await store.listHoldings(p.id, T0), empty);
        assert.deepEqual(await store.listHoldings(randomUUID(), T0), empty);
      });
    });

    // ---- signing keys -------------------------------------------------------------------

    describe('signing keys', () => {
      it('insert, list by age, retire once, delete', async (store) => {
        const older = newSigningKey({ createdAt: T0 });
        const newer = newSigningKey({ createdAt: T0 + 10 });
        await store.insertSigningKey(newer);
        await store.insertSigningKey(older);
        assert.deepEqual(await store.listSigningKeys(), [older, newer]);

        await store.retireSigningKey(older.kid, T0 + 10);
        await store.retireSigningKey(older.kid, T0 + 20); // already retired: keeps the first time
        assert.deepEqual(await store.listSigningKeys(), [{ ...older, retiredAt: T0 + 10 }, newer]);

        await store.deleteSigningKey(older.kid);
        assert.deepEqual(await store.listSigningKeys(), [newer]);
        await store.deleteSigningKey(older.kid); // gone already: no error
        await store.retireSigningKey(randomUUID(), T0); // unknown: no error
        assert.deepEqual(await store.listSigningKeys(), [newer]);
      });

      it('a second signing key with the same kid is a ConflictError', async (store) => {
        const key = newSigningKey();
        await store.insertSigningKey(key);
        await assert.rejects(store.insertSigningKey({ ...key }), ConflictError);
      });
    });

    // ---- housekeeping -------------------------------------------------------------------

    describe('purgeExpired', () => {
      it('removes what expired strictly before the given time and counts it (access tokens too)', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const oldSession = newSession(p.id, { expiresAt: 100 });
        const liveSession = newSession(p.id, { expiresAt: 10_000 });
        const boundarySession = newSession(p.id, { expiresAt: 200 });
        for (const s of [oldSession, liveSession, boundarySession]) await store.createSession(s);
        const r1 = { tokenHash: hex(32), sessionId: oldSession.id, expiresAt: 50, usedAt: null };
        const r2 = { tokenHash: hex(32), sessionId: liveSession.id, expiresAt: 150, usedAt: T0 };
        const r3 = { tokenHash: hex(32), sessionId: liveSession.id, expiresAt: 5000, usedAt: null };
        for (const r of [r1, r2, r3]) await store.insertRefreshToken(r);
        const k1 = newApiKey(p.id, { expiresAt: 120 });
        const k2 = newApiKey(p.id, { expiresAt: null });
        const k3 = newApiKey(p.id, { expiresAt: 9000 });
        for (const k of [k1, k2, k3]) await store.createApiKey(k);

        const a1 = { tokenHash: hex(32), sessionId: liveSession.id, issuedAt: 0, expiresAt: 199 };
        const a2 = { tokenHash: hex(32), sessionId: liveSession.id, issuedAt: 0, expiresAt: 200 };
        for (const a of [a1, a2]) await store.insertAccessToken(a);

        assert.equal(await store.purgeExpired(200), 5); // a1, r1, r2, oldSession, k1

        assert.equal(await store.getAccessToken(a1.tokenHash), null);
        assert.deepEqual(await store.getAccessToken(a2.tokenHash), a2);

        assert.equal(await store.getSession(oldSession.id), null);
        assert.notEqual(await store.getSession(liveSession.id), null);
        assert.notEqual(await store.getSession(boundarySession.id), null);
        assert.equal(await store.getRefreshToken(r1.tokenHash), null);
        assert.equal(await store.getRefreshToken(r2.tokenHash), null);
        assert.deepEqual(await store.getRefreshToken(r3.tokenHash), r3);
        assert.equal(await store.getApiKeyBySecretHash(k1.secretHash), null);
        assert.notEqual(await store.getApiKeyBySecretHash(k2.secretHash), null);
        assert.notEqual(await store.getApiKeyBySecretHash(k3.secretHash), null);
        assert.notEqual(await store.getPrincipal(p.id), null, 'principals are never purged');

        assert.equal(await store.purgeExpired(200), 0);
      });
    });

    // ---- cascades -----------------------------------------------------------------------

    describe('cascades', () => {
      it('deleting a principal removes its sessions, refresh tokens, API keys and identities', async (store) => {
        const p = await store.createPrincipal(newPrincipal({ roles: ['user'], groups: ['G'] }));
        const other = await store.createPrincipal(newPrincipal());
        const s = newSession(p.id);
        const otherSession = newSession(other.id);
        await store.createSession(s);
        await store.createSession(otherSession);
        const token = { tokenHash: hex(32), sessionId: s.id, expiresAt: T0 + 1000, usedAt: null };
        await store.insertRefreshToken(token);
        const key = newApiKey(p.id);
        const otherKey = newApiKey(other.id);
        await store.createApiKey(key);
        await store.createApiKey(otherKey);
        await store.upsertIdentity({ provider: 'local', externalId: p.username, principalId: p.id, latestLogin: null });

        assert.equal(await store.deletePrincipal(p.id), true);

        assert.equal(await store.getSession(s.id), null);
        assert.deepEqual(await store.listSessions(p.id), []);
        assert.equal(await store.getRefreshToken(token.tokenHash), null);
        assert.equal(await store.getApiKeyBySecretHash(key.secretHash), null);
        assert.deepEqual(await store.listApiKeys(p.id), []);
        assert.deepEqual(await store.listIdentities(p.id), []);
        // the other principal's things are untouched
        assert.deepEqual(await store.getSession(otherSession.id), otherSession);
        assert.deepEqual(await store.getApiKeyBySecretHash(otherKey.secretHash), otherKey);
        // re-creating a principal with the same id does not resurrect old memberships
        const reborn = await store.createPrincipal(newPrincipal({ id: p.id, username: p.username }));
        assert.deepEqual(reborn.roles, []);
        assert.deepEqual(reborn.groups, []);
      });
    });

    // ---- transactions -------------------------------------------------------------------

    describe('transactions', () => {
      it('commits every write together and returns the callback’s value', async (store) => {
        const id = randomUUID();
        const result = await store.transaction(async (tx) => {
          await tx.createPrincipal(newPrincipal({ id, username: 'in-tx' }));
          await tx.putRole({ name: 'tx-role', scopes: ['read:status'], description: null });
          // reads inside the transaction see its own writes
          assert.equal((await tx.getPrincipal(id))?.username, 'in-tx');
          return 42;
        });
        assert.equal(result, 42);
        assert.equal((await store.getPrincipal(id))?.username, 'in-tx');
        assert.notEqual(await store.getRole('tx-role'), null);
      });

      it('a throw inside rolls back every write and rethrows the same error', async (store) => {
        const existing = await store.createPrincipal(newPrincipal({ roles: ['user'] }));
        const existingSession = newSession(existing.id);
        await store.createSession(existingSession);
        const existingKey = newApiKey(existing.id);
        await store.createApiKey(existingKey);
        await store.putGroup({ name: 'kept', roles: [], attributes: {} });
        const before = {
          principals: await store.listPrincipals(),
          roles: await store.listRoles(),
          groups: await store.listGroups(),
          sessions: await store.listSessions(existing.id),
          keys: await store.listApiKeys(existing.id),
          signing: await store.listSigningKeys(),
          identities: await store.listIdentities(existing.id),
        };
        const boom = new Error('boom');
        const newId = randomUUID();
        const session = newSession(existing.id);
        const key = newApiKey(existing.id);
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.createPrincipal(newPrincipal({ id: newId, username: 'ghost' }));
            await tx.updatePrincipal(existing.id, { roles: ['admin'], email: 'x@example.org', updatedAt: T0 + 1 });
            await tx.putRole({ name: 'ghost-role', scopes: [], description: null });
            await tx.putGroup({ name: 'ghost-group', roles: [], attributes: {} });
            await tx.deleteGroup('kept');
            await tx.createSession(session);
            await tx.revokeSession(existingSession.id, T0 + 2);
            await tx.insertRefreshToken({ tokenHash: hex(32), sessionId: session.id, expiresAt: T0 + 5, usedAt: null });
            await tx.createApiKey(key);
            await tx.deleteApiKey(existingKey.id);
            await tx.insertSigningKey(newSigningKey());
            await tx.upsertIdentity({ provider: 'local', externalId: 'ghost', principalId: existing.id, latestLogin: null });
            throw boom;
          }),
          (error) => error === boom,
        );
        assert.deepEqual(
          {
            principals: await store.listPrincipals(),
            roles: await store.listRoles(),
            groups: await store.listGroups(),
            sessions: await store.listSessions(existing.id),
            keys: await store.listApiKeys(existing.id),
            signing: await store.listSigningKeys(),
            identities: await store.listIdentities(existing.id),
          },
          before,
        );
        assert.equal(await store.getPrincipal(newId), null);
        assert.equal(await store.getSession(session.id), null);
        assert.equal(await store.getApiKeyBySecretHash(key.secretHash), null);
      });

      it('a failing store call inside rolls back the earlier writes', async (store) => {
        const taken = await store.createPrincipal(newPrincipal({ username: 'taken' }));
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.putRole({ name: 'half', scopes: [], description: null });
            await tx.createPrincipal(newPrincipal({ username: taken.username }));
          }),
          ConflictError,
        );
        assert.equal(await store.getRole('half'), null);
        // the store still works afterwards
        await store.putRole({ name: 'after', scopes: [], description: null });
        assert.notEqual(await store.getRole('after'), null);
      });

      it('a nested transaction joins the outer one', async (store) => {
        const committed = await store.transaction(async (tx) => {
          const inner = await tx.transaction(async (tx2) => {
            await tx2.putRole({ name: 'inner', scopes: [], description: null });
            return 'inner-result';
          });
          assert.equal(inner, 'inner-result');
          assert.notEqual(await tx.getRole('inner'), null, 'the outer transaction sees the nested write');
          return inner;
        });
        assert.equal(committed, 'inner-result');
        assert.notEqual(await store.getRole('inner'), null);

        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.transaction(async (tx2) => {
              await tx2.putRole({ name: 'nested-then-outer-fails', scopes: [], description: null });
            });
            throw new Error('outer fails after the nested one finished');
          }),
          /outer fails/,
        );
        assert.equal(await store.getRole('nested-then-outer-fails'), null, 'the nested write rolled back with the outer');
      });

      it('a write outside an open transaction survives that transaction’s rollback', async (store) => {
        const inside = deferred();
        const release = deferred();
        const tx = store.transaction(async (t) => {
          await t.putRole({ name: 'inside', scopes: [], description: null });
          inside.resolve();
          await release.promise;
          throw new Error('rolled back');
        });
        await inside.promise;
        const outside = store.putRole({ name: 'outside', scopes: [], description: null });
        release.resolve();
        await assert.rejects(tx, /rolled back/);
        await outside;
        assert.equal(await store.getRole('inside'), null);
        assert.notEqual(await store.getRole('outside'), null);
      });

      it('transactions started together all commit', async (store) => {
        const names = Array.from({ length: 6 }, (_, i) => `concurrent-${i}`);
        const gate = deferred();
        const all = names.map((name) =>
          store.transaction(async (tx) => {
            await gate.promise;
            await tx.putRole({ name, scopes: [], description: null });
            await new Promise((r) => setImmediate(r));
            await tx.createPrincipal(newPrincipal({ username: name }));
            return name;
          }),
        );
        gate.resolve();
        assert.deepEqual(await Promise.all(all), names);
        assert.deepEqual(
          (await store.listRoles()).map((r) => r.name),
          [...names].sort(),
        );
        assert.equal((await store.listPrincipals()).length, names.length);
      });

      it('after a rollback the next transaction starts clean', async (store) => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.putRole({ name: 'first', scopes: [], description: null });
            throw new Error('no');
          }),
        );
        await store.transaction(async (tx) => {
          await tx.putRole({ name: 'second', scopes: [], description: null });
        });
        assert.equal(await store.getRole('first'), null);
        assert.notEqual(await store.getRole('second'), null);
      });
    });

    // ---- change events ------------------------------------------------------------------

    describe('onChange', () => {
      it('principal writes report the principal', async (store) => {
        const events = recorder(store);
        try {
          const p = await store.createPrincipal(newPrincipal());
          await events.waitFor(isPrincipal(p.id), 'principal (create)');
          events.events.length = 0;
          await store.updatePrincipal(p.id, { admin: true, updatedAt: T0 + 1 });
          await events.waitFor(isPrincipal(p.id), 'principal (update)');
          events.events.length = 0;
          await store.deletePrincipal(p.id);
          await events.waitFor(isPrincipal(p.id), 'principal (delete)');
        } finally {
          events.off();
        }
      });

      it('role and group writes report a policy change', async (store) => {
        const events = recorder(store);
        try {
          const steps: [string, () => Promise<unknown>][] = [
            ['putRole', () => store.putRole({ name: 'r', scopes: ['read:status'], description: null })],
            ['deleteRole', () => store.deleteRole('r')],
            ['putGroup', () => store.putGroup({ name: 'g', roles: [], attributes: {} })],
            ['deleteGroup', () => store.deleteGroup('g')],
          ];
          for (const [what, step] of steps) {
            events.events.length = 0;
            await step();
            await events.waitFor(isPolicy, `policy (${what})`);
          }
        } finally {
          events.off();
        }
      });

      it('deleteGroup reports each member', async (store) => {
        await store.putGroup({ name: 'team', roles: [], attributes: {} });
        const a = await store.createPrincipal(newPrincipal({ groups: ['team'] }));
        const events = recorder(store);
        try {
          await store.deleteGroup('team');
          await events.waitFor(isPrincipal(a.id), 'principal (group member)');
        } finally {
          events.off();
        }
      });

      it('session revocations report the session', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const one = newSession(p.id);
        const two = newSession(p.id);
        const three = newSession(p.id);
        for (const s of [one, two, three]) await store.createSession(s);
        const events = recorder(store);
        try {
          await store.revokeSession(one.id, T0 + 1);
          await events.waitFor(isSession(one.id), 'session (revoke)');
          await store.revokeAllSessions(p.id, T0 + 2);
          await events.waitFor(isSession(two.id), 'session (revoke all)');
          await events.waitFor(isSession(three.id), 'session (revoke all)');
        } finally {
          events.off();
        }
      });

      it('API key deletion reports the key’s secret hash, also through its owner’s deletion', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const k1 = newApiKey(p.id);
        const k2 = newApiKey(p.id);
        await store.createApiKey(k1);
        await store.createApiKey(k2);
        const events = recorder(store);
        try {
          await store.deleteApiKey(k1.id);
          await events.waitFor(isApiKey(k1.secretHash), 'apikey (delete)');
          await store.deletePrincipal(p.id);
          await events.waitFor(isApiKey(k2.secretHash), 'apikey (owner deleted)');
          await events.waitFor(isPrincipal(p.id), 'principal (owner deleted)');
        } finally {
          events.off();
        }
      });

      it('signing key writes report a keys change', async (store) => {
        const events = recorder(store);
        try {
          const key = newSigningKey();
          const steps: [string, () => Promise<unknown>][] = [
            ['insert', () => store.insertSigningKey(key)],
            ['retire', () => store.retireSigningKey(key.kid, T0 + 1)],
            ['delete', () => store.deleteSigningKey(key.kid)],
          ];
          for (const [what, step] of steps) {
            events.events.length = 0;
            await step();
            await events.waitFor(isKeys, `keys (${what})`);
          }
        } finally {
          events.off();
        }
      });

      it('events of a committed transaction arrive after it commits', async (store) => {
        const events = recorder(store);
        try {
          let principalId = '';
          await store.transaction(async (tx) => {
            const p = await tx.createPrincipal(newPrincipal());
            principalId = p.id;
            await tx.putRole({ name: 'tx', scopes: [], description: null });
            await new Promise((r) => setImmediate(r));
            assert.equal(events.has(isPolicy), false, 'no event before the commit');
            assert.equal(events.has(isPrincipal(p.id)), false, 'no event before the commit');
          });
          await events.waitFor(isPolicy, 'policy (after commit)');
          await events.waitFor(isPrincipal(principalId), 'principal (after commit)');
        } finally {
          events.off();
        }
      });

      it('events of a rolled-back transaction are never delivered', async (store) => {
        const p = await store.createPrincipal(newPrincipal());
        const s = newSession(p.id);
        await store.createSession(s);
        const k = newApiKey(p.id);
        await store.createApiKey(k);
        const events = recorder(store);
        try {
          await assert.rejects(
            store.transaction(async (tx) => {
              await tx.putRole({ name: 'never', scopes: [], description: null });
              await tx.updatePrincipal(p.id, { admin: true, updatedAt: T0 + 1 });
              await tx.revokeSession(s.id, T0 + 1);
              await tx.deleteApiKey(k.id);
              await tx.insertSigningKey(newSigningKey());
              throw new Error('rollback');
            }),
            /rollback/,
          );
          await marker(store, events);
          assert.equal(events.has(isPolicy), false);
          assert.equal(events.has(isPrincipal(p.id)), false);
          assert.equal(events.has(isSession(s.id)), false);
          assert.equal(events.has(isApiKey(k.secretHash)), false);
          assert.equal(events.has(isKeys), false);
        } finally {
          events.off();
        }
      });

      it('an unsubscribed listener hears nothing more; others still do', async (store) => {
        const stays = recorder(store);
        const leaves = recorder(store);
        try {
          await store.putRole({ name: 'one', scopes: [], description: null });
          await leaves.waitFor(isPolicy, 'policy (before unsubscribing)');
          leaves.off();
          const heard = leaves.events.length;
          await store.putRole({ name: 'two', scopes: [], description: null });
          await marker(store, stays);
          assert.equal(leaves.events.length, heard);
          assert.ok(stays.events.filter(isPolicy).length >= 2);
        } finally {
          stays.off();
          leaves.off();
        }
      });

      it('a listener that throws neither fails the write nor silences other listeners', async (store) => {
        const off = store.onChange(() => {
          throw new Error('listener failure');
        });
        const events = recorder(store);
        try {
          await store.putRole({ name: 'r', scopes: [], description: null });
          await store.transaction(async (tx) => tx.putGroup({ name: 'g', roles: [], attributes: {} }));
          const p = await store.createPrincipal(newPrincipal());
          await events.waitFor(isPrincipal(p.id), 'principal');
          assert.ok(events.events.filter(isPolicy).length >= 2);
          assert.notEqual(await store.getRole('r'), null);
          assert.notEqual(await store.getGroup('g'), null);
        } finally {
          off();
          events.off();
        }
      });
    });
  });
}
