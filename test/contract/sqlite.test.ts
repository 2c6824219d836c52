// The Store contract on the SQLite backend (a temp file, and `:memory:`), plus what only SQLite
// has: WAL, noticing other connections' writes through data_version, one connection whose
// callers queue behind an open transaction.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { StoreUnavailableError } from '../../src/core/errors.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { ChangeEvent } from '../../src/store/store.ts';
import { storeContract } from './store-contract.ts';
import { sqliteMigrations } from '../../src/store/migrations/sqlite.ts';

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

storeContract('sqlite (file)', async () => {
  const { dir, remove } = tempDir();
  const store = openSqliteStore({ path: join(dir, 'gatehouse.db'), pollIntervalMs: 0 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      remove();
    },
  };
});

storeContract('sqlite (:memory:)', async () => {
  const store = openSqliteStore({ path: ':memory:' });
  return { store, cleanup: () => store.close() };
});

/** Two stores (connections) on one file; `a` polls only when asked to (its timer never fires in a test). */
async function twoConnections(pollIntervalMs = 3_600_000) {
  const { dir, remove } = tempDir();
  const path = join(dir, 'gatehouse.db');
  const a = openSqliteStore({ path, pollIntervalMs });
  await a.migrate();
  const b = openSqliteStore({ path, pollIntervalMs: 0 });
  return {
    a,
    b,
    path,
    close: async () => {
      await a.close();
      await b.close();
      remove();
    },
  };
}

function collect(store: SqliteStore): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  store.onChange((e) => events.push(e));
  return events;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every queued microtask and I/O callback run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('sqlite specifics', () => {
  test('the database file is in WAL mode with foreign keys enforced', async () => {
    const { a, path, close } = await twoConnections();
    try {
      const db = new DatabaseSync(path);
      try {
        assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
      } finally {
        db.close();
      }
      // foreign keys: a session for a principal that does not exist is refused
      await assert.rejects(
        a.createSession({
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
      );
    } finally {
      await close();
    }
  });

  test('a write by another connection is reported as {kind: "all"} by the data_version poller', async () => {
    const { a, b, close } = await twoConnections(10);
    try {
      let resolveAll!: () => void;
      const sawAll = new Promise<void>((r) => (resolveAll = r));
      a.onChange((e) => {
        if (e.kind === 'all') resolveAll();
      });
      await b.putRole({ name: 'from-b', scopes: ['read:status'], description: null });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        sawAll,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no {kind: "all"} event within 5 s')), 5000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.deepEqual(await a.getRole('from-b'), { name: 'from-b', scopes: ['read:status'], description: null });
    } finally {
      await close();
    }
  });

  test('a SQLite store says it hears changes, with or without its poller (writes of others are polled for, or not expected)', async () => {
    const { a, b, close } = await twoConnections(10);
    try {
      assert.equal(a.hearsChanges(), true);
      assert.equal(b.hearsChanges(), true);
    } finally {
      await close();
    }
  });

  test('last-use times are checkpointed into the database file as they commit; other writes keep the usual threshold', async () => {
    const { dir, remove } = tempDir();
    const path = join(dir, 'g.db');
    const store = openSqliteStore({ path, pollIntervalMs: 0 });
    try {
      await store.migrate();
      await store.createPrincipal({ id: 'p', type: 'user', username: 'u', createdAt: 1 });
      // In WAL mode only checkpoints write the database file: its size tells whether one ran.
      const addKeys = (prefix: string) =>
        store.transaction(async (tx) => {
          for (let i = 0; i < 300; i++) {
            await tx.createApiKey({
              id: `${prefix}${i}`,
              principalId: 'p',
              firstEight: 'abcd1234',
              secretHash: `${prefix}${String(i).padStart(8, '0')}`.padEnd(64, '0'),
              scopes: ['inherit'],
              note: 'n'.repeat(2000), // about a page per key: some 300 pages, below the usual 1,000
              expiresAt: null,
              createdAt: 1,
              latestActivity: null,
            });
          }
        });
      await addKeys('a');
      const before = statSync(path).size;
      await store.touchApiKeys(new Map(Array.from({ length: 300 }, (_, i) => [`a${i}`, 5])));
      const touched = statSync(path).size;
      assert.ok(touched > before + 300 * 2000, `the keys' pages reached the database file (${before} -> ${touched} bytes)`);
      await addKeys('b');
      assert.equal(statSync(path).size, touched, 'a plain write of 300 pages does not set off a checkpoint');
      assert.equal((await store.getApiKeyBySecretHash('a00000000'.padEnd(64, '0')))?.latestActivity, 5);
    } finally {
      await store.close();
      remove();
    }
  });

  test('the poller stays quiet about the connection’s own writes', async () => {
    const { a, close } = await twoConnections();
    try {
      const events = collect(a);
      await a.putRole({ name: 'own', scopes: [], description: null });
      await a.transaction(async (tx) => tx.putGroup({ name: 'own', roles: [], attributes: {} }));
      a.pollForeignWrites();
      assert.equal(events.filter((e) => e.kind === 'all').length, 0);
      assert.equal(events.filter((e) => e.kind === 'policy').length, 2);
    } finally {
      await close();
    }
  });

  test('a foreign write is still reported when this connection commits before the next poll', async () => {
    const { a, b, close } = await twoConnections();
    try {
      const events = collect(a);
      await b.putRole({ name: 'foreign', scopes: [], description: null });
      await a.transaction(async (tx) => tx.putRole({ name: 'own', scopes: [], description: null }));
      a.pollForeignWrites();
      assert.equal(events.filter((e) => e.kind === 'all').length, 1);
      a.pollForeignWrites();
      assert.equal(events.filter((e) => e.kind === 'all').length, 1, 'reported once');
    } finally {
      await close();
    }
  });

  test('calls made while a transaction is open wait for it, then see its outcome', async () => {
    const { dir, remove } = tempDir();
    const store = openSqliteStore({ path: join(dir, 'g.db'), pollIntervalMs: 0 });
    try {
      await store.migrate();
      for (const outcome of ['commit', 'rollback'] as const) {
        const name = `role-${outcome}`;
        const written = deferred();
        const release = deferred();
        const tx = store.transaction(async (t) => {
          await t.putRole({ name, scopes: ['read:status'], description: null });
          written.resolve();
          await release.promise;
          if (outcome === 'rollback') throw new Error('rolled back');
        });
        await written.promise;
        let readDone = false;
        const read = store.getRole(name).finally(() => (readDone = true));
        let writeDone = false;
        const write = store.putRole({ name: `${name}-outside`, scopes: [], description: null }).finally(() => (writeDone = true));
        await settle();
        await settle();
        assert.equal(readDone, false, 'the read waits for the open transaction');
        assert.equal(writeDone, false, 'the write waits for the open transaction');
        release.resolve();
        if (outcome === 'rollback') await assert.rejects(tx, /rolled back/);
        else await tx;
        // the read ran after the transaction ended: it sees the committed role, or none
        assert.deepEqual(await read, outcome === 'commit' ? { name, scopes: ['read:status'], description: null } : null);
        await write;
        assert.notEqual(await store.getRole(`${name}-outside`), null);
      }
    } finally {
      await store.close();
      remove();
    }
  });

  test('a transaction view cannot be used after its transaction ended', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    try {
      await store.migrate();
      let leaked: SqliteStore | null = null;
      await store.transaction(async (tx) => {
        leaked = tx as SqliteStore;
      });
      assert.ok(leaked);
      await assert.rejects((leaked as SqliteStore).putRole({ name: 'late', scopes: [], description: null }), /transaction/);
      assert.equal(await store.getRole('late'), null);
    } finally {
      await store.close();
    }
  });

  test('after close() every call fails with StoreUnavailableError; close() twice is fine', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    await store.migrate();
    await store.close();
    await store.close();
    await assert.rejects(store.ping(), StoreUnavailableError);
    await assert.rejects(store.getRole('x'), StoreUnavailableError);
    await assert.rejects(store.transaction(async () => 1), StoreUnavailableError);
  });

  test('close() waits for an open transaction to finish', async () => {
    const { dir, remove } = tempDir();
    const path = join(dir, 'g.db');
    const store = openSqliteStore({ path, pollIntervalMs: 0 });
    try {
      await store.migrate();
      const release = deferred();
      const started = deferred();
      const tx = store.transaction(async (t) => {
        started.resolve();
        await release.promise;
        await t.putRole({ name: 'late-commit', scopes: [], description: null });
      });
      await started.promise;
      const closing = store.close();
      release.resolve();
      await tx;
      await closing;
      const again = openSqliteStore({ path, pollIntervalMs: 0 });
      assert.notEqual(await again.getRole('late-commit'), null);
      await again.close();
    } finally {
      remove();
    }
  });

  test('two connections migrating at once apply each version once; data survives reopening', async () => {
    const { dir, remove } = tempDir();
    const path = join(dir, 'g.db');
    const a = openSqliteStore({ path, pollIntervalMs: 0 });
    const b = openSqliteStore({ path, pollIntervalMs: 0 });
    try {
      const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
      assert.equal(ra.current, rb.current);
      const applied = [...ra.applied, ...rb.applied].sort((x, y) => x - y);
      assert.deepEqual(
        applied,
        Array.from({ length: ra.current }, (_, i) => i + 1),
        'every version applied by exactly one of them',
      );
      await a.putRole({ name: 'persisted', scopes: ['read:status'], description: null });
      await a.close();
      await b.close();
      const c = openSqliteStore({ path, pollIntervalMs: 0 });
      assert.deepEqual((await c.migrate()).applied, []);
      assert.notEqual(await c.getRole('persisted'), null);
      await c.close();
    } finally {
      remove();
    }
  });
});

test('migration 3 keeps every refresh and access token and stores them by hash alone (WITHOUT ROWID)', async () => {
  const { dir, remove } = tempDir();
  const path = join(dir, 'v2.db');
  try {
    // a database as a version-2 server left it
    const db = new DatabaseSync(path);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    for (const m of sqliteMigrations.filter((m) => m.version <= 2)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(m.version, m.name);
    }
    db.exec(`INSERT INTO principals (id, type, username, created_at, updated_at) VALUES ('p1', 'user', 'alice', 1, 1);
      INSERT INTO applications (client_id, scopes, access_token_ttl, grant_ttl, allow_refresh) VALUES ('app', 'any', 60, 600, 1);
      INSERT INTO sessions (id, principal_id, created_at, expires_at, client_id) VALUES ('s1', 'p1', 1, 9000, 'app');
      INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES ('r-used', 's1', 5000, 7), ('r-new', 's1', 6000, NULL);
      INSERT INTO access_tokens (token_hash, session_id, issued_at, expires_at) VALUES ('a1', 's1', 2, 3000);`);
    db.close();

    const store = openSqliteStore({ path, pollIntervalMs: 0 });
    try {
      assert.deepEqual((await store.migrate()).applied, [3]);
      assert.deepEqual(await store.getRefreshToken('r-used'), { tokenHash: 'r-used', sessionId: 's1', expiresAt: 5000, usedAt: 7 });
      assert.deepEqual(await store.getRefreshToken('r-new'), { tokenHash: 'r-new', sessionId: 's1', expiresAt: 6000, usedAt: null });
      assert.deepEqual(await store.getAccessToken('a1'), { tokenHash: 'a1', sessionId: 's1', issuedAt: 2, expiresAt: 3000 });
      assert.equal(await store.markRefreshTokenUsed('r-new', 8), true);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path);
    const tables = check
      .prepare("SELECT name, sql FROM sqlite_master WHERE name IN ('refresh_tokens', 'access_tokens') ORDER BY name")
      .all() as { name: string; sql: string }[];
    assert.equal(tables.length, 2);
    for (const t of tables) assert.match(t.sql, /WITHOUT ROWID\s*$/, t.name);
    const indexes = check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%tokens_session' ORDER BY name").all();
    assert.deepEqual(indexes.map((r) => (r as { name: string }).name), ['access_tokens_session', 'refresh_tokens_session']);
    check.exec('PRAGMA foreign_keys = ON');
    check.exec("DELETE FROM sessions WHERE id = 's1'");
    assert.equal((check.prepare('SELECT count(*) AS n FROM refresh_tokens').get() as { n: number }).n, 0, 'cascade still holds');
    assert.equal((check.prepare('SELECT count(*) AS n FROM access_tokens').get() as { n: number }).n, 0);
    check.close();
  } finally {
    remove();
  }
});

describe('WAL checkpoints on a thread of their own', () => {
  /** Writes about 2.5 MiB of new pages in one transaction: more than fits the WAL below SQLite's own threshold. */
  async function writeMuch(store: SqliteStore): Promise<void> {
    await store.transaction(async (tx) => {
      for (let i = 0; i < 300; i++) await tx.putRole({ name: `bulk-${i}`, scopes: [], description: 'x'.repeat(8000) });
    });
  }

  async function sizeAfter(path: string, ms: number, until: (size: number) => boolean): Promise<number> {
    const deadline = Date.now() + ms;
    let size = statSync(path).size;
    while (!until(size) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      size = statSync(path).size;
    }
    return size;
  }

  test('the pages reach the database file without this connection checkpointing, and no write is reported', async () => {
    const { dir, remove } = tempDir();
    const path = join(dir, 'g.db');
    const store = openSqliteStore({ path, pollIntervalMs: 10, checkpointIntervalMs: 20 });
    const events: ChangeEvent[] = [];
    try {
      await store.migrate();
      await new Promise((resolve) => setTimeout(resolve, 100));
      store.onChange((e) => events.push(e));
      const before = statSync(path).size;
      await writeMuch(store);
      assert.equal(statSync(path).size, before, 'the commit itself did not checkpoint');
      const after = await sizeAfter(path, 3000, (size) => size > before + 2_000_000);
      assert.ok(after > before + 2_000_000, `the checkpointer copied the pages (${before} -> ${after} bytes)`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(
        events.filter((e) => e.kind === 'all'),
        [],
        'checkpoints are not mistaken for another process writing',
      );
      assert.equal((await store.getRole('bulk-299'))?.description?.length, 8000);
    } finally {
      await store.close();
      remove();
    }
  });

  test('without it (CLI commands, tests), the same write stays in the WAL until SQLite checkpoints', async () => {
    const { dir, remove } = tempDir();
    const path = join(dir, 'g.db');
    const store = openSqliteStore({ path, pollIntervalMs: 0 });
    try {
      await store.migrate();
      const before = statSync(path).size;
      await writeMuch(store);
      const after = await sizeAfter(path, 300, (size) => size > before + 2_000_000);
      assert.equal(after, before);
    } finally {
      await store.close();
      remove();
    }
  });
});

describe('SQLite files are private', () => {
  test('a new data directory is 0700 and the database, -wal and -shm files 0600', async () => {
    const base = mkdtempSync(join(tmpdir(), 'gatehouse-mode-'));
    const dir = join(base, 'data', 'nested');
    const path = join(dir, 'gatehouse.db');
    const store = openSqliteStore({ path, pollIntervalMs: 0 });
    try {
      await store.migrate();
      assert.equal(statSync(join(base, 'data')).mode & 0o777, 0o700);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        assert.equal(statSync(file).mode & 0o777, 0o600, file);
      }
    } finally {
      await store.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
