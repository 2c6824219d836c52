// The Store contract on the PostgreSQL backend (a fresh schema per store), plus what only the
// PostgreSQL backend has: changes heard from other stores through LISTEN/NOTIFY, recovery after
// the server drops connections, migrations under an advisory lock, URL parameters.

import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { ConflictError, StoreUnavailableError, ValidationError } from '../../src/core/errors.ts';
import { ManualClock } from '../../src/core/time.ts';
import { KeyService } from '../../src/services/keys.ts';
import { openStore } from '../../src/store/open.ts';
import { openPostgresStore, parseNotification, type PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import type { ChangeEvent, Store } from '../../src/store/store.ts';
import { adminQuery, createSchema, IN_CI, needPostgres, PG_URL, pgUnavailableReason, requiredInCi, type TestSchema } from '../pg.ts';
import { storeContract } from './store-contract.ts';

const unavailable = await pgUnavailableReason();

if (unavailable === null) {
  storeContract('postgres', async () => {
    const schema = await createSchema();
    const store = openPostgresStore({ url: schema.url });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await schema.drop();
      },
    };
  });
} else {
  test('store contract on postgres', (t) => {
    if (IN_CI) throw new Error(requiredInCi(unavailable));
    t.skip(`skipped: ${unavailable}`);
  });
}

// ---- helpers ----------------------------------------------------------------------------------

const T0 = Date.UTC(2026, 0, 1);

function waitForEvent(store: Store, match: (e: ChangeEvent) => boolean, what: string, timeoutMs = 5000): Promise<ChangeEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${what} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = store.onChange((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/** Terminates the server side of every connection opened with this application_name. */
async function terminate(applicationName: string): Promise<number> {
  const rows = await adminQuery<{ ok: boolean }>(
    'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()',
    [applicationName],
  );
  return rows.length;
}

/** A schema with `count` stores on it (the first one migrated), closed and dropped afterwards. */
async function withStores(
  t: TestContext,
  count: number,
  body: (stores: PostgresStore[], schema: TestSchema, appName: string) => Promise<void>,
): Promise<void> {
  if (!(await needPostgres(t))) return;
  const schema = await createSchema();
  const appName = `gh_contract_${schema.schema.slice(-8)}`;
  const stores = Array.from({ length: count }, () => openPostgresStore({ url: schema.urlWith({ application_name: appName }), heartbeatMs: 200 }));
  try {
    await stores[0]?.migrate();
    await body(stores, schema, appName);
  } finally {
    for (const s of stores) await s.close();
    await schema.drop();
  }
}

// ---- postgres specifics ---------------------------------------------------------------------

describe('postgres specifics', () => {
  test('a change made through one store reaches another store on the same schema, once, after commit', async (t) => {
    await withStores(t, 2, async ([a, b]) => {
      assert.ok(a && b);
      const heardByB: ChangeEvent[] = [];
      b.onChange((e) => heardByB.push(e));
      const heardByA: ChangeEvent[] = [];
      a.onChange((e) => heardByA.push(e));
      assert.equal(await b.listening(), true, 'b listens');
      assert.equal(await a.listening(), true, 'a listens');
      heardByA.length = 0;
      heardByB.length = 0;

      const policy = waitForEvent(b, (e) => e.kind === 'policy', 'policy on b');
      await a.putRole({ name: 'from-a', scopes: ['read:status'], description: null });
      await policy;
      assert.deepEqual(await b.getRole('from-a'), { name: 'from-a', scopes: ['read:status'], description: null });

      const p = await a.createPrincipal({ id: 'p1', type: 'user', username: 'u1', createdAt: T0 });
      const key = {
        id: 'k1',
        principalId: p.id,
        firstEight: 'abcd1234',
        secretHash: 'f'.repeat(64),
        scopes: ['inherit'],
        note: null,
        expiresAt: null,
        createdAt: T0,
        latestActivity: null,
      };
      await a.createApiKey(key);
      const revoked = waitForEvent(b, (e) => e.kind === 'apikey' && e.secretHash === key.secretHash, 'apikey on b');
      await a.deleteApiKey(key.id);
      await revoked;

      // a marker: once b hears it, everything a did before has arrived
      const marker = waitForEvent(b, (e) => e.kind === 'principal' && e.id === 'marker', 'marker on b');
      await a.createPrincipal({ id: 'marker', type: 'user', username: 'marker', createdAt: T0 });
      await marker;
      assert.equal(heardByA.filter((e) => e.kind === 'policy').length, 1, 'a hears its own change once (locally, not again by NOTIFY)');
      assert.equal(heardByB.filter((e) => e.kind === 'policy').length, 1);
    });
  });

  test('a rolled-back transaction announces nothing to other stores', async (t) => {
    await withStores(t, 2, async ([a, b]) => {
      assert.ok(a && b);
      const heard: ChangeEvent[] = [];
      b.onChange((e) => heard.push(e));
      assert.equal(await b.listening(), true);
      heard.length = 0;
      await assert.rejects(
        a.transaction(async (tx) => {
          await tx.putRole({ name: 'never', scopes: [], description: null });
          throw new Error('rollback');
        }),
        /rollback/,
      );
      const marker = waitForEvent(b, (e) => e.kind === 'principal' && e.id === 'marker', 'marker on b');
      await a.createPrincipal({ id: 'marker', type: 'user', username: 'marker', createdAt: T0 });
      await marker;
      assert.equal(heard.some((e) => e.kind === 'policy'), false);
    });
  });

  test('a transaction with very many changes is announced as one {kind:"all"}', async (t) => {
    await withStores(t, 2, async ([a, b]) => {
      assert.ok(a && b);
      b.onChange(() => undefined);
      assert.equal(await b.listening(), true);
      const all = waitForEvent(b, (e) => e.kind === 'all', 'all on b');
      await a.transaction(async (tx) => {
        for (let i = 0; i < 150; i++) await tx.putRole({ name: `r${i}`, scopes: [], description: null });
      });
      await all;
      assert.equal((await b.listRoles()).length, 150);
    });
  });

  test('after its LISTEN connection is terminated a store reconnects and reports {kind:"all"}', async (t) => {
    await withStores(t, 2, async ([a, b], _schema, appName) => {
      assert.ok(a && b);
      b.onChange(() => undefined);
      assert.equal(await b.listening(), true);
      const all = waitForEvent(b, (e) => e.kind === 'all', 'all after reconnect', 10_000);
      assert.ok((await terminate(appName)) >= 1, 'some connections were terminated');
      await all;
      assert.equal(await b.listening(10_000), true, 'listening again');
      // and it hears changes again
      const policy = waitForEvent(b, (e) => e.kind === 'policy', 'policy after reconnect', 10_000);
      await a.putRole({ name: 'after', scopes: [], description: null });
      await policy;
    });
  });

  test('when its LISTEN connection is lost a store reports {kind:"all"} at once and hears nothing until it is back', async (t) => {
    await withStores(t, 1, async ([store], _schema, appName) => {
      assert.ok(store);
      const heard: boolean[] = [];
      store.onChange((e) => {
        if (e.kind === 'all') heard.push(store.hearsChanges());
      });
      assert.equal(await store.listening(), true);
      assert.equal(store.hearsChanges(), true);
      heard.length = 0; // the 'all' of the first connection
      const lost = waitForEvent(store, (e) => e.kind === 'all', 'all when the connection is lost', 10_000);
      assert.ok((await terminate(appName)) >= 1);
      await lost;
      assert.equal(heard[0], false, 'the first report comes while the connection is down');
      assert.equal(await store.listening(10_000), true);
      assert.equal(store.hearsChanges(), true, 'hears changes again');
      assert.equal(heard.at(-1), true, 'and reports {kind:"all"} once it is back');
    });
  });

  test('a store opened without LISTEN hears changes by its own say-so (one writer)', async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await createSchema();
    const store = openPostgresStore({ url: schema.url, listen: false });
    try {
      store.onChange(() => undefined);
      assert.equal(store.hearsChanges(), true);
    } finally {
      await store.close();
      await schema.drop();
    }
  });

  test('pooled connections terminated by the server: reads recover at once, every failure is StoreUnavailableError', async (t) => {
    await withStores(t, 1, async ([store], _schema, appName) => {
      assert.ok(store);
      await store.putRole({ name: 'r', scopes: [], description: null });
      // warm several pooled connections
      await Promise.all(Array.from({ length: 5 }, () => store.getRole('r')));
      assert.ok((await terminate(appName)) >= 1);
      for (let i = 0; i < 5; i++) {
        try {
          assert.deepEqual(await store.getRole('r'), { name: 'r', scopes: [], description: null });
        } catch (error) {
          assert.ok(error instanceof StoreUnavailableError, `failed with ${String(error)}`);
        }
      }
      // writes work again too
      await store.putRole({ name: 'r2', scopes: [], description: null });
      assert.notEqual(await store.getRole('r2'), null);
      await store.ping();
    });
  });

  test('nodes starting at once on an empty database make one signing key between them', async (t) => {
    await withStores(t, 4, async (stores) => {
      const clock = new ManualClock(T0);
      const opts = { issuer: 'gatehouse', maxTokenTtlMs: 900_000, rotationIntervalMs: 30 * 86_400_000 };
      const services = stores.map((store) => new KeyService(store, clock, opts));
      try {
        await Promise.all(services.map((k) => k.ensureSigningKey()));
        const stored = await stores[0]?.listSigningKeys();
        assert.equal(stored?.length, 1, 'one key, not one per node');
        for (const k of services) assert.equal((await k.ring()).signingKid, stored?.[0]?.kid);
        // and a rotation due on all of them at once makes exactly one more
        clock.advance(opts.rotationIntervalMs);
        await Promise.all(services.map((k) => k.ensureSigningKey()));
        const after = await stores[0]?.listSigningKeys();
        assert.equal(after?.length, 2);
        assert.equal(after?.filter((k) => k.retiredAt === null).length, 1);
      } finally {
        for (const k of services) k.close();
      }
    });
  });

  test('stores starting together migrate under the lock: every version applied exactly once', async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await createSchema();
    const stores = Array.from({ length: 5 }, () => openPostgresStore({ url: schema.url, listen: false }));
    try {
      const reports = await Promise.all(stores.map((s) => s.migrate()));
      const current = reports[0]?.current ?? 0;
      assert.ok(current > 0);
      const applied = reports.flatMap((r) => r.applied).sort((x, y) => x - y);
      assert.deepEqual(applied, Array.from({ length: current }, (_, i) => i + 1));
      const rows = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM ${schema.schema}.schema_migrations`);
      assert.equal(Number(rows[0]?.n), current);
    } finally {
      for (const s of stores) await s.close();
      await schema.drop();
    }
  });

  test('schema= names the schema; migrate creates it when missing; ?options=-c search_path works too', async (t) => {
    if (!(await needPostgres(t))) return;
    const name = `gh_test_new_${Date.now().toString(36)}`;
    const url = new URL(PG_URL);
    url.searchParams.set('schema', name);
    const store = await openStore(url.toString(), { pollIntervalMs: 0 });
    try {
      await store.migrate();
      await store.putRole({ name: 'in-schema', scopes: [], description: null });
      const rows = await adminQuery<{ name: string }>(`SELECT name FROM ${name}.roles`);
      assert.deepEqual(rows, [{ name: 'in-schema' }]);
      const viaOptions = new URL(PG_URL);
      viaOptions.searchParams.set('options', `-c search_path=${name}`);
      const other = await openStore(viaOptions.toString(), { pollIntervalMs: 0 });
      try {
        assert.deepEqual((await other.migrate()).applied, []);
        assert.notEqual(await other.getRole('in-schema'), null);
      } finally {
        await other.close();
      }
    } finally {
      await store.close();
      await adminQuery(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    }
  });

  test('a bad schema name or URL parameter is refused before connecting', () => {
    assert.throws(() => openPostgresStore({ url: 'postgres://u@127.0.0.1/db?schema=a;drop' }), /schema/);
    assert.throws(() => openPostgresStore({ url: 'postgres://u@127.0.0.1/db?pool_max=0' }), /pool_max/);
  });

  test('a server that cannot be reached is StoreUnavailableError, for ping, reads, writes and migrate', async () => {
    const store = openPostgresStore({ url: 'postgres://postgres@127.0.0.1:1/test?connect_timeout=2', listen: false });
    try {
      await assert.rejects(store.ping(), StoreUnavailableError);
      await assert.rejects(store.getRole('x'), StoreUnavailableError);
      await assert.rejects(store.putRole({ name: 'x', scopes: [], description: null }), StoreUnavailableError);
      await assert.rejects(store.migrate(), StoreUnavailableError);
      await assert.rejects(store.transaction(async () => 1), StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  test('a foreign key violation is a ConflictError', async (t) => {
    await withStores(t, 1, async ([store]) => {
      assert.ok(store);
      await assert.rejects(
        store.createSession({
          id: 's',
          principalId: 'missing',
          createdAt: 0,
          expiresAt: 1,
          revokedAt: null,
          lastRefreshedAt: null,
          refreshCount: 0,
          clientId: null,
          scope: null,
        }),
        ConflictError,
      );
    });
  });

  test('a transaction view cannot be used after its transaction ended', async (t) => {
    await withStores(t, 1, async ([store]) => {
      assert.ok(store);
      let leaked: Store | null = null;
      await store.transaction(async (tx) => {
        leaked = tx;
      });
      assert.ok(leaked);
      await assert.rejects((leaked as Store).putRole({ name: 'late', scopes: [], description: null }), /transaction/);
      assert.equal(await store.getRole('late'), null);
    });
  });

  test('after close() every call fails with StoreUnavailableError; close() twice is fine', async (t) => {
    await withStores(t, 1, async ([store]) => {
      assert.ok(store);
      await store.close();
      await store.close();
      await assert.rejects(store.ping(), StoreUnavailableError);
      await assert.rejects(store.getRole('x'), StoreUnavailableError);
      await assert.rejects(store.transaction(async () => 1), StoreUnavailableError);
    });
  });

  test('NUL characters: a key containing one matches nothing, a value containing one is refused', async (t) => {
    await withStores(t, 1, async ([store]) => {
      assert.ok(store);
      const p = await store.createPrincipal({ id: 'p', type: 'user', username: 'bob', createdAt: T0 });
      assert.equal(await store.getPrincipalByUsername('bob\u0000'), null);
      assert.equal(await store.getPrincipal('p\u0000'), null);
      assert.equal(await store.revokeSession('s\u0000', T0), false);
      assert.deepEqual(
        (await store.listPrincipals({ after: 'bo\u0000x' })).map((x) => x.username),
        ['bob'],
      );
      assert.deepEqual(await store.listPrincipals({ after: 'bob\u0000' }), []);
      await assert.rejects(store.createPrincipal({ id: 'q', type: 'user', username: 'eve\u0000', createdAt: T0 }), ValidationError);
      await assert.rejects(store.updatePrincipal(p.id, { email: 'a\u0000@example.org', updatedAt: T0 }), ValidationError);
      assert.equal((await store.getPrincipal(p.id))?.email, null);
    });
  });

  test('close() lets an open transaction finish and waits for it', async (t) => {
    await withStores(t, 1, async ([store], schema) => {
      assert.ok(store);
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let started!: () => void;
      const running = new Promise<void>((r) => (started = r));
      const tx = store.transaction(async (t2) => {
        started();
        await released;
        await t2.putRole({ name: 'late-commit', scopes: [], description: null });
      });
      await running;
      const closing = store.close();
      await assert.rejects(store.getRole('x'), StoreUnavailableError, 'new work is refused at once');
      release();
      await tx;
      await closing;
      const rows = await adminQuery<{ name: string }>(`SELECT name FROM ${schema.schema}.roles`);
      assert.deepEqual(rows, [{ name: 'late-commit' }]);
    });
  });

  test('times beyond 32 bits round-trip as numbers', async (t) => {
    await withStores(t, 1, async ([store]) => {
      assert.ok(store);
      const far = Date.UTC(2200, 0, 1);
      const p = await store.createPrincipal({ id: 'p', type: 'user', username: 'far', createdAt: far });
      assert.equal(p.createdAt, far);
      assert.equal(typeof p.createdAt, 'number');
    });
  });
});

describe('notification payloads', () => {
  test('own notifications are ignored; unreadable ones mean {kind:"all"}', () => {
    assert.deepEqual(parseNotification(JSON.stringify({ o: 'me', e: [{ kind: 'policy' }] }), 'me'), []);
    assert.deepEqual(parseNotification(JSON.stringify({ o: 'other', e: [{ kind: 'policy' }, { kind: 'keys' }] }), 'me'), [
      { kind: 'policy' },
      { kind: 'keys' },
    ]);
    assert.deepEqual(parseNotification('not json', 'me'), [{ kind: 'all' }]);
    assert.deepEqual(parseNotification(undefined, 'me'), [{ kind: 'all' }]);
    assert.deepEqual(parseNotification(JSON.stringify({ o: 'other', e: [{ kind: 'surprise' }] }), 'me'), [{ kind: 'all' }]);
    assert.deepEqual(parseNotification(JSON.stringify({ o: 'other' }), 'me'), [{ kind: 'all' }]);
  });
});
