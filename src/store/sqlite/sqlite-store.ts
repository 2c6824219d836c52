// SQLite backend on node:sqlite: one connection per process, WAL, prepared statements,
// versioned migrations. Writes from other processes (e.g. `gatehouse apply` while a server
// runs) are noticed through `PRAGMA data_version` and reported as a change of everything.

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { ConflictError, StoreUnavailableError } from '../../core/errors.ts';
import type {
  AccessTokenRecord,
  ApiKey,
  Application,
  Group,
  Identity,
  PrincipalWithSecret,
  RefreshTokenRecord,
  Role,
  ScopeCatalogEntry,
  Session,
  SigningKey,
} from '../../core/model.ts';
import { sqliteMigrations } from '../migrations/sqlite.ts';
import { startCheckpointer, type Checkpointer } from './checkpointer.ts';
import {
  API_KEY_COLUMNS,
  IDENTITY_COLUMNS,
  jsonObjectArgs,
  nullableNumber,
  nullableString,
  SESSION_COLUMNS,
  toAccessToken,
  toApiKey,
  toApplication,
  toGroup,
  toIdentity,
  toRefreshToken,
  toRole,
  toSession,
} from '../rows.ts';
import type {
  ChangeEvent,
  Holdings,
  ListOptions,
  MigrationReport,
  NewPrincipal,
  PrincipalPatch,
  Store,
} from '../store.ts';

/** A result row; this schema stores no blobs. */
type Row = Record<string, string | number | bigint | null>;

/**
 * listHoldings: three lists as JSON arrays of row objects in one statement (one statement costs
 * about a third of three on the whoami path). json_group_array's own ORDER BY keeps the order
 * of the three list methods.
 */
const HOLDINGS_SQL = `SELECT
  (SELECT json_group_array(json_object(${jsonObjectArgs(IDENTITY_COLUMNS)}) ORDER BY provider, external_id)
     FROM identities WHERE principal_id = ?1) AS identities,
  (SELECT json_group_array(json_object(${jsonObjectArgs(API_KEY_COLUMNS)}) ORDER BY created_at, id)
     FROM api_keys WHERE principal_id = ?1) AS api_keys,
  (SELECT json_group_array(json_object(${jsonObjectArgs(SESSION_COLUMNS)}) ORDER BY created_at, id)
     FROM sessions WHERE principal_id = ?1 AND revoked_at IS NULL AND expires_at > ?2) AS sessions`;

export interface SqliteStoreOptions {
  /** File path, or ':memory:'. */
  readonly path: string;
  /** How often to look for writes made by other processes (ms); 0 disables. */
  readonly pollIntervalMs?: number;
  /**
   * Run WAL checkpoints on a worker thread every this many ms instead of on this connection
   * (see checkpointer.ts); 0 or absent: SQLite's own, on this connection. A server uses it; short
   * CLI commands and tests need not.
   */
  readonly checkpointIntervalMs?: number;
}

/** State shared by the store and the transaction views it hands out. */
interface Shared {
  readonly db: DatabaseSync;
  readonly statements: Map<string, StatementSync>;
  readonly listeners: Set<(event: ChangeEvent) => void>;
  /** Resolves when the open transaction ends; null when none is open. */
  txDone: Promise<void> | null;
  dataVersion: number;
  poller: NodeJS.Timeout | null;
  /** performance.now() of the last look at data_version. */
  polledAt: number;
  closed: boolean;
  /** The auto-checkpoint threshold in force on this connection (pages). */
  autocheckpoint: number;
  checkpointer: Checkpointer | null;
}

/** SQLite's default checkpoint threshold, in pages of WAL (kept for every other write). */
const WAL_AUTOCHECKPOINT_PAGES = 1000;

/**
 * The threshold while checkpoints run on their own thread: only reached when that thread has
 * stopped or fallen far behind (128 MiB of WAL). At 4096 pages, the last-use times of 5,000 keys
 * at random places of a 1.4 GiB file reached it in one burst, and that checkpoint on the serving
 * connection held requests up for 70-175 ms.
 */
const SAFETY_CHECKPOINT_PAGES = 32768;

/** A WAL file that grew in a burst is cut back to this size (bytes) when it starts over. */
const WAL_SIZE_LIMIT = 16 * 1024 * 1024;
/** The threshold while last-use times are written (see touchApiKeys). */
const TOUCH_CHECKPOINT_PAGES = 64;

/**
 * How often noticeChanges() looks at data_version at most: a write by another process is seen by
 * the first request more than this after the previous look (at once on a server that is not
 * busy, within this under load). Each look costs 3-20 µs.
 */
const NOTICE_INTERVAL_MS = 10;

const PRINCIPAL_SELECT = `
SELECT p.*,
  (SELECT json_group_array(role) FROM (SELECT role FROM principal_roles WHERE principal_id = p.id ORDER BY role)) AS roles_json,
  (SELECT json_group_array(group_name) FROM (SELECT group_name FROM group_members WHERE principal_id = p.id ORDER BY group_name)) AS groups_json
FROM principals p`;

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  // The file holds password hashes and the private signing keys: a new data directory is
  // private to the server's user (0700) and a new database file too (0600; SQLite gives its
  // -wal and -shm files the same mode). Existing paths keep the modes their owner chose.
  // A path that cannot be created is reported as such (by the file system error), not as an
  // unavailable database.
  if (options.path !== ':memory:') {
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
    closeSync(openSync(options.path, 'a', 0o600));
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(options.path);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  } catch (error) {
    throw new StoreUnavailableError(error);
  }
  const shared: Shared = {
    db,
    statements: new Map(),
    listeners: new Set(),
    txDone: null,
    dataVersion: 0,
    poller: null,
    polledAt: 0,
    closed: false,
    autocheckpoint: WAL_AUTOCHECKPOINT_PAGES,
    checkpointer: null,
  };
  const store = new SqliteStore(shared, false);
  if (options.checkpointIntervalMs && options.path !== ':memory:') {
    const fallBack = () => {
      shared.checkpointer = null;
      shared.autocheckpoint = WAL_AUTOCHECKPOINT_PAGES;
      if (!shared.closed) db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    };
    shared.checkpointer = startCheckpointer(options.path, options.checkpointIntervalMs, { onFailure: fallBack });
    shared.autocheckpoint = SAFETY_CHECKPOINT_PAGES;
    db.exec(`PRAGMA wal_autocheckpoint = ${SAFETY_CHECKPOINT_PAGES}`);
    db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT}`);
  }
  const interval = options.pollIntervalMs ?? 500;
  if (interval > 0 && options.path !== ':memory:') {
    shared.dataVersion = store.dataVersion();
    shared.poller = setInterval(() => store.pollForeignWrites(), interval);
    shared.poller.unref();
  }
  return store;
}

export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly #s: Shared;
  readonly #inTx: boolean;
  /** Events raised inside a transaction wait here until it commits. */
  readonly #pending: ChangeEvent[] = [];
  /** Set on a transaction view once its transaction committed or rolled back. */
  #ended = false;

  constructor(shared: Shared, inTx: boolean) {
    this.#s = shared;
    this.#inTx = inTx;
  }

  // ---- plumbing -------------------------------------------------------------------------

  #stmt(sql: string): StatementSync {
    let stmt = this.#s.statements.get(sql);
    if (!stmt) {
      stmt = this.#s.db.prepare(sql);
      this.#s.statements.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * Runs `work` (synchronous SQL) once no transaction of another caller is open on this
   * connection. The last check and the work happen in the same tick, so nothing can open a
   * transaction in between and swallow the work into it.
   */
  async #op<T>(work: () => T): Promise<T> {
    if (this.#inTx) {
      if (this.#ended) throw new Error('this transaction has already ended');
      return work();
    }
    while (this.#s.txDone) await this.#s.txDone;
    if (this.#s.closed) throw closedError();
    return work();
  }

  #run(sql: string, ...params: SQLInputValue[]): number {
    try {
      return Number(this.#stmt(sql).run(...params).changes);
    } catch (error) {
      throw translate(error);
    }
  }

  #get(sql: string, ...params: SQLInputValue[]): Row | undefined {
    try {
      return this.#stmt(sql).get(...params) as Row | undefined;
    } catch (error) {
      throw translate(error);
    }
  }

  #all(sql: string, ...params: SQLInputValue[]): Row[] {
    try {
      return this.#stmt(sql).all(...params) as Row[];
    } catch (error) {
      throw translate(error);
    }
  }

  #emit(event: ChangeEvent): void {
    if (this.#inTx) this.#pending.push(event);
    else deliver(this.#s, event);
  }

  dataVersion(): number {
    const row = this.#stmt('PRAGMA data_version').get() as { data_version: number };
    return Number(row.data_version);
  }

  /**
   * Called on a timer: another connection committed if data_version moved. (This connection's
   * own commits never move it, so the value is only ever updated here.)
   */
  pollForeignWrites(): void {
    if (this.#s.closed || this.#s.txDone) return;
    this.#s.polledAt = performance.now();
    try {
      const version = this.dataVersion();
      if (version !== this.#s.dataVersion) {
        this.#s.dataVersion = version;
        deliver(this.#s, { kind: 'all' });
      }
    } catch {
      // a failed poll is retried on the next tick
    }
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async migrate(): Promise<MigrationReport> {
    return this.#op(() => {
      const db = this.#s.db;
      const applied: number[] = [];
      try {
        db.exec(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
        );
        db.exec('BEGIN IMMEDIATE');
      } catch (error) {
        throw translate(error);
      }
      try {
        const done = new Set(
          (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => Number(r.version)),
        );
        for (const m of sqliteMigrations) {
          if (done.has(m.version)) continue;
          db.exec(m.sql);
          db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
          applied.push(m.version);
        }
        db.exec('COMMIT');
      } catch (error) {
        rollback(db);
        throw error;
      }
      const current = Math.max(0, ...sqliteMigrations.map((m) => m.version));
      return { applied, current };
    });
  }

  async ping(): Promise<void> {
    await this.#op(() => this.#get('SELECT 1 AS ok'));
  }

  async close(): Promise<void> {
    while (this.#s.txDone) await this.#s.txDone;
    if (this.#s.closed) return;
    this.#s.closed = true;
    if (this.#s.poller) clearInterval(this.#s.poller);
    await this.#s.checkpointer?.stop();
    this.#s.listeners.clear();
    this.#s.statements.clear();
    this.#s.db.close();
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.#inTx) {
      // nested: join the open transaction
      if (this.#ended) throw new Error('this transaction has already ended');
      return fn(this);
    }
    while (this.#s.txDone) await this.#s.txDone;
    if (this.#s.closed) throw closedError();
    // From here to BEGIN nothing awaits: the connection is ours.
    let release!: () => void;
    this.#s.txDone = new Promise<void>((resolve) => (release = resolve));
    const tx = new SqliteStore(this.#s, true);
    const end = () => {
      tx.#ended = true;
      this.#s.txDone = null;
      release();
    };
    const db = this.#s.db;
    try {
      this.#stmt('BEGIN IMMEDIATE').run(); // prepared once, like COMMIT: parsing them cost µs per transaction
    } catch (error) {
      end();
      throw translate(error);
    }
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      rollback(db);
      end();
      throw error;
    }
    try {
      this.#stmt('COMMIT').run();
    } catch (error) {
      rollback(db);
      end();
      throw translate(error);
    }
    end();
    for (const event of tx.#pending) deliver(this.#s, event);
    return result;
  }

  onChange(listener: (event: ChangeEvent) => void): () => void {
    this.#s.listeners.add(listener);
    return () => this.#s.listeners.delete(listener);
  }

  /** Always: other processes' writes are noticed by polling (or, with polling off, not expected). */
  hearsChanges(): boolean {
    return true;
  }

  /**
   * The poller's check, run now if it last ran more than NOTICE_INTERVAL_MS ago (it costs a few
   * µs, more under load); only when polling is on (with polling off no other process is expected
   * to write).
   */
  noticeChanges(): void {
    if (this.#s.poller === null) return;
    if (performance.now() - this.#s.polledAt < NOTICE_INTERVAL_MS) return;
    this.pollForeignWrites();
  }

  // ---- principals --------------------------------------------------------------------------

  async createPrincipal(p: NewPrincipal): Promise<PrincipalWithSecret> {
    return this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      self.#run(
        `INSERT INTO principals (id, type, username, email, password_hash, disabled, admin, ip_filter, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        p.id,
        p.type,
        p.username,
        p.email ?? null,
        p.passwordHash ?? null,
        p.disabled ? 1 : 0,
        p.admin ? 1 : 0,
        p.ipFilter ?? null,
        p.createdAt,
        p.createdAt,
      );
      self.#setMemberships(p.id, p.roles ?? [], p.groups ?? []);
      self.#emit({ kind: 'principal', id: p.id });
      const created = self.#principal('WHERE p.id = ?', p.id);
      if (!created) throw new Error('principal vanished after insert');
      return created;
    });
  }

  #setMemberships(id: string, roles: readonly string[] | undefined, groups: readonly string[] | undefined): void {
    if (roles) {
      this.#run('DELETE FROM principal_roles WHERE principal_id = ?', id);
      for (const role of new Set(roles)) this.#run('INSERT INTO principal_roles (principal_id, role) VALUES (?, ?)', id, role);
    }
    if (groups) {
      this.#run('DELETE FROM group_members WHERE principal_id = ?', id);
      for (const group of new Set(groups)) {
        this.#run('INSERT INTO group_members (principal_id, group_name) VALUES (?, ?)', id, group);
      }
    }
  }

  #principal(where: string, ...params: SQLInputValue[]): PrincipalWithSecret | null {
    const row = this.#get(`${PRINCIPAL_SELECT} ${where}`, ...params);
    return row ? toPrincipal(row) : null;
  }

  async getPrincipal(id: string): Promise<PrincipalWithSecret | null> {
    return this.#op(() => this.#principal('WHERE p.id = ?', id));
  }

  async getPrincipalByUsername(username: string): Promise<PrincipalWithSecret | null> {
    return this.#op(() => this.#principal('WHERE p.username = ?', username));
  }

  async listPrincipals(opts: ListOptions = {}): Promise<PrincipalWithSecret[]> {
    return this.#op(() => {
      const limit = opts.limit ?? -1;
      const rows =
        opts.after === undefined
          ? this.#all(`${PRINCIPAL_SELECT} ORDER BY p.username LIMIT ?`, limit)
          : this.#all(`${PRINCIPAL_SELECT} WHERE p.username > ? ORDER BY p.username LIMIT ?`, opts.after, limit);
      return rows.map(toPrincipal);
    });
  }

  async updatePrincipal(id: string, patch: PrincipalPatch): Promise<PrincipalWithSecret | null> {
    return this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      const current = self.#principal('WHERE p.id = ?', id);
      if (!current) return null;
      self.#run(
        `UPDATE principals SET email = ?, password_hash = ?, disabled = ?, admin = ?, ip_filter = ?, updated_at = ? WHERE id = ?`,
        patch.email !== undefined ? patch.email : current.email,
        patch.passwordHash !== undefined ? patch.passwordHash : current.passwordHash,
        (patch.disabled ?? current.disabled) ? 1 : 0,
        (patch.admin ?? current.admin) ? 1 : 0,
        patch.ipFilter !== undefined ? patch.ipFilter : current.ipFilter,
        patch.updatedAt,
        id,
      );
      self.#setMemberships(id, patch.roles, patch.groups);
      self.#emit({ kind: 'principal', id });
      return self.#principal('WHERE p.id = ?', id);
    });
  }

  async deletePrincipal(id: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      const keys = self.#all('SELECT secret_hash FROM api_keys WHERE principal_id = ?', id);
      const removed = self.#run('DELETE FROM principals WHERE id = ?', id) > 0;
      if (removed) {
        self.#emit({ kind: 'principal', id });
        for (const k of keys) self.#emit({ kind: 'apikey', secretHash: String(k.secret_hash) });
      }
      return removed;
    });
  }

  // ---- identities -------------------------------------------------------------------------

  async upsertIdentity(identity: Identity): Promise<void> {
    await this.#op(() =>
      this.#run(
        `INSERT INTO identities (provider, external_id, principal_id, latest_login) VALUES (?, ?, ?, ?)
         ON CONFLICT (provider, external_id) DO UPDATE SET principal_id = excluded.principal_id, latest_login = excluded.latest_login`,
        identity.provider,
        identity.externalId,
        identity.principalId,
        identity.latestLogin,
      ),
    );
  }

  async listIdentities(principalId: string): Promise<Identity[]> {
    return this.#op(() =>
      this.#all('SELECT * FROM identities WHERE principal_id = ? ORDER BY provider, external_id', principalId).map(toIdentity),
    );
  }

  // ---- roles and groups -------------------------------------------------------------------

  async putRole(role: Role): Promise<void> {
    await this.#op(() => {
      this.#run(
        `INSERT INTO roles (name, scopes, description) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET scopes = excluded.scopes, description = excluded.description`,
        role.name,
        JSON.stringify(role.scopes),
        role.description,
      );
      this.#emit({ kind: 'policy' });
    });
  }

  async getRole(name: string): Promise<Role | null> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM roles WHERE name = ?', name);
      return row ? toRole(row) : null;
    });
  }

  async listRoles(): Promise<Role[]> {
    return this.#op(() => this.#all('SELECT * FROM roles ORDER BY name').map(toRole));
  }

  async deleteRole(name: string): Promise<boolean> {
    return this.#op(() => {
      const removed = this.#run('DELETE FROM roles WHERE name = ?', name) > 0;
      if (removed) this.#emit({ kind: 'policy' });
      return removed;
    });
  }

  async putGroup(group: Group): Promise<void> {
    await this.#op(() => {
      this.#run(
        `INSERT INTO groups (name, roles, attributes) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET roles = excluded.roles, attributes = excluded.attributes`,
        group.name,
        JSON.stringify(group.roles),
        JSON.stringify(group.attributes),
      );
      this.#emit({ kind: 'policy' });
    });
  }

  async getGroup(name: string): Promise<Group | null> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM groups WHERE name = ?', name);
      return row ? toGroup(row) : null;
    });
  }

  async listGroups(): Promise<Group[]> {
    return this.#op(() => this.#all('SELECT * FROM groups ORDER BY name').map(toGroup));
  }

  async deleteGroup(name: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      const members = self.#all('SELECT principal_id FROM group_members WHERE group_name = ?', name);
      self.#run('DELETE FROM group_members WHERE group_name = ?', name);
      const removed = self.#run('DELETE FROM groups WHERE name = ?', name) > 0;
      if (removed || members.length > 0) self.#emit({ kind: 'policy' });
      for (const m of members) self.#emit({ kind: 'principal', id: String(m.principal_id) });
      return removed;
    });
  }

  // ---- sessions -------------------------------------------------------------------------

  async createSession(session: Session): Promise<void> {
    await this.#op(() =>
      this.#run(
        `INSERT INTO sessions (id, principal_id, created_at, expires_at, revoked_at, last_refreshed_at, refresh_count, client_id, scope)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        session.id,
        session.principalId,
        session.createdAt,
        session.expiresAt,
        session.revokedAt,
        session.lastRefreshedAt,
        session.refreshCount,
        session.clientId,
        session.scope,
      ),
    );
  }

  async getSession(id: string): Promise<Session | null> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM sessions WHERE id = ?', id);
      return row ? toSession(row) : null;
    });
  }

  async listSessions(principalId: string, opts: { activeAt?: number } = {}): Promise<Session[]> {
    return this.#op(() => {
      if (opts.activeAt === undefined) {
        return this.#all('SELECT * FROM sessions WHERE principal_id = ? ORDER BY created_at, id', principalId).map(toSession);
      }
      return this.#all(
        'SELECT * FROM sessions WHERE principal_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at, id',
        principalId,
        opts.activeAt,
      ).map(toSession);
    });
  }

  async revokeSession(id: string, at: number): Promise<boolean> {
    return this.#op(() => {
      const changed = this.#run('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', at, id) > 0;
      if (changed) this.#emit({ kind: 'session', id });
      return changed;
    });
  }

  async revokeAllSessions(principalId: string, at: number): Promise<number> {
    return this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      const ids = self.#all('SELECT id FROM sessions WHERE principal_id = ? AND revoked_at IS NULL', principalId);
      self.#run('UPDATE sessions SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL', at, principalId);
      for (const r of ids) self.#emit({ kind: 'session', id: String(r.id) });
      return ids.length;
    });
  }

  async insertRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.#op(() =>
      this.#run(
        'INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES (?, ?, ?, ?)',
        token.tokenHash,
        token.sessionId,
        token.expiresAt,
        token.usedAt,
      ),
    );
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM refresh_tokens WHERE token_hash = ?', tokenHash);
      return row ? toRefreshToken(row) : null;
    });
  }

  async listRefreshTokens(sessionId: string): Promise<RefreshTokenRecord[]> {
    return this.#op(() =>
      this.#all('SELECT * FROM refresh_tokens WHERE session_id = ? ORDER BY expires_at, token_hash', sessionId).map(
        toRefreshToken,
      ),
    );
  }

  async markRefreshTokenUsed(tokenHash: string, at: number): Promise<boolean> {
    return this.#op(
      () => this.#run('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL', at, tokenHash) > 0,
    );
  }

  async recordSessionRefreshes(refreshes: ReadonlyMap<string, { readonly count: number; readonly at: number }>): Promise<void> {
    if (refreshes.size === 0) return;
    await this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      for (const [id, { count, at }] of refreshes) {
        self.#run(
          `UPDATE sessions SET refresh_count = refresh_count + ?,
             last_refreshed_at = max(coalesce(last_refreshed_at, ?), ?) WHERE id = ?`,
          count,
          at,
          at,
          id,
        );
      }
    });
  }

  // ---- access tokens, applications, scope catalog ----------------------------------------

  async insertAccessToken(token: AccessTokenRecord): Promise<void> {
    await this.#op(() =>
      this.#run(
        'INSERT INTO access_tokens (token_hash, session_id, issued_at, expires_at) VALUES (?, ?, ?, ?)',
        token.tokenHash,
        token.sessionId,
        token.issuedAt,
        token.expiresAt,
      ),
    );
  }

  async getAccessToken(tokenHash: string): Promise<AccessTokenRecord | null> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM access_tokens WHERE token_hash = ?', tokenHash);
      return row ? toAccessToken(row) : null;
    });
  }

  async listAccessTokens(sessionId: string): Promise<AccessTokenRecord[]> {
    return this.#op(() =>
      this.#all('SELECT * FROM access_tokens WHERE session_id = ? ORDER BY issued_at, token_hash', sessionId).map(toAccessToken),
    );
  }

  async putApplication(application: Application): Promise<void> {
    await this.#op(() => {
      this.#run(
        `INSERT INTO applications (client_id, name, scopes, access_token_ttl, grant_ttl, allow_refresh) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, scopes = excluded.scopes,
           access_token_ttl = excluded.access_token_ttl, grant_ttl = excluded.grant_ttl, allow_refresh = excluded.allow_refresh`,
        application.clientId,
        application.name,
        application.scopes,
        application.accessTokenTtl,
        application.grantTtl,
        application.allowRefresh ? 1 : 0,
      );
      this.#emit({ kind: 'policy' });
    });
  }

  async getApplication(clientId: string): Promise<Application | null> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM applications WHERE client_id = ?', clientId);
      return row ? toApplication(row) : null;
    });
  }

  async listApplications(): Promise<Application[]> {
    return this.#op(() => this.#all('SELECT * FROM applications ORDER BY client_id').map(toApplication));
  }

  async deleteApplication(clientId: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      const grants = self.#all('SELECT id FROM sessions WHERE client_id = ?', clientId);
      const removed = self.#run('DELETE FROM applications WHERE client_id = ?', clientId) > 0; // grants go with it
      if (removed) self.#emit({ kind: 'policy' });
      for (const g of grants) self.#emit({ kind: 'session', id: String(g.id) });
      return removed;
    });
  }

  async getScopeCatalog(): Promise<ScopeCatalogEntry[] | null> {
    return this.#op(() => {
      const row = this.#get("SELECT value FROM settings WHERE key = 'scopeCatalog'");
      return row ? (JSON.parse(String(row.value)) as ScopeCatalogEntry[]) : null;
    });
  }

  async putScopeCatalog(catalog: readonly ScopeCatalogEntry[] | null): Promise<void> {
    await this.#op(() => {
      if (catalog === null) this.#run("DELETE FROM settings WHERE key = 'scopeCatalog'");
      else {
        this.#run(
          "INSERT INTO settings (key, value) VALUES ('scopeCatalog', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          JSON.stringify(catalog.map((e) => ({ scope: e.scope, restrictions: [...e.restrictions] }))),
        );
      }
      this.#emit({ kind: 'policy' });
    });
  }

  // ---- API keys -------------------------------------------------------------------------

  async createApiKey(key: ApiKey): Promise<void> {
    await this.#op(() =>
      this.#run(
        `INSERT INTO api_keys (id, principal_id, first_eight, secret_hash, scopes, note, expires_at, created_at, latest_activity)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        key.id,
        key.principalId,
        key.firstEight,
        key.secretHash,
        JSON.stringify(key.scopes),
        key.note,
        key.expiresAt,
        key.createdAt,
        key.latestActivity,
      ),
    );
  }

  async getApiKeyBySecretHash(secretHash: string): Promise<ApiKey | null> {
    return this.#op(() => {
      const row = this.#get('SELECT * FROM api_keys WHERE secret_hash = ?', secretHash);
      return row ? toApiKey(row) : null;
    });
  }

  async listApiKeys(principalId: string): Promise<ApiKey[]> {
    return this.#op(() =>
      this.#all('SELECT * FROM api_keys WHERE principal_id = ? ORDER BY created_at, id', principalId).map(toApiKey),
    );
  }

  async listHoldings(principalId: string, activeAt: number): Promise<Holdings> {
    return this.#op(() => {
      const row = this.#get(HOLDINGS_SQL, principalId, activeAt);
      const list = (column: string) => JSON.parse(String(row?.[column] ?? '[]')) as Row[];
      return {
        identities: list('identities').map(toIdentity),
        apiKeys: list('api_keys').map(toApiKey),
        sessions: list('sessions').map(toSession),
      };
    });
  }

  async findApiKeyByFirstEight(principalId: string, firstEight: string): Promise<ApiKey | null> {
    return this.#op(() => {
      const row = this.#get(
        'SELECT * FROM api_keys WHERE principal_id = ? AND first_eight = ? ORDER BY created_at, id LIMIT 1',
        principalId,
        firstEight,
      );
      return row ? toApiKey(row) : null;
    });
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return this.#op(() => {
      const row = this.#get('SELECT secret_hash FROM api_keys WHERE id = ?', id);
      if (!row) return false;
      this.#run('DELETE FROM api_keys WHERE id = ?', id);
      this.#emit({ kind: 'apikey', secretHash: String(row.secret_hash) });
      return true;
    });
  }

  /**
   * Last-use times land at random places of the file, one page each: left to the usual threshold
   * (1,000 pages), the checkpoint that copies them back into the database file came as one stall
   * of 20-35 ms at a million keys. While this transaction commits the threshold is lowered, so
   * the pages it dirtied are checkpointed with it, in steps the size of one batch.
   */
  async touchApiKeys(activity: ReadonlyMap<string, number>): Promise<void> {
    if (activity.size === 0) return;
    const db = this.#s.db;
    // With checkpoints on their own thread there is nothing to spread; otherwise each chunk
    // checkpoints the little it wrote instead of one large checkpoint stopping every request.
    const lowered = !this.#inTx && this.#s.checkpointer === null;
    await this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      if (lowered) db.exec(`PRAGMA wal_autocheckpoint = ${TOUCH_CHECKPOINT_PAGES}`);
      for (const [id, at] of activity) {
        self.#run(
          'UPDATE api_keys SET latest_activity = ? WHERE id = ? AND (latest_activity IS NULL OR latest_activity < ?)',
          at,
          id,
          at,
        );
      }
    }).finally(() => {
      if (lowered && !this.#s.closed) db.exec(`PRAGMA wal_autocheckpoint = ${this.#s.autocheckpoint}`);
    });
  }

  // ---- signing keys -----------------------------------------------------------------------

  async insertSigningKey(key: SigningKey): Promise<void> {
    await this.#op(() => {
      this.#run(
        'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)',
        key.kid,
        key.alg,
        JSON.stringify(key.publicJwk),
        JSON.stringify(key.privateJwk),
        key.createdAt,
        key.retiredAt,
      );
      this.#emit({ kind: 'keys' });
    });
  }

  async listSigningKeys(): Promise<SigningKey[]> {
    return this.#op(() =>
      this.#all('SELECT * FROM signing_keys ORDER BY created_at, kid').map((r) => ({
        kid: String(r.kid),
        alg: 'EdDSA' as const,
        publicJwk: JSON.parse(String(r.public_jwk)) as Record<string, unknown>,
        privateJwk: JSON.parse(String(r.private_jwk)) as Record<string, unknown>,
        createdAt: Number(r.created_at),
        retiredAt: nullableNumber(r.retired_at),
      })),
    );
  }

  async retireSigningKey(kid: string, at: number): Promise<void> {
    await this.#op(() => {
      if (this.#run('UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL', at, kid) > 0) {
        this.#emit({ kind: 'keys' });
      }
    });
  }

  async deleteSigningKey(kid: string): Promise<void> {
    await this.#op(() => {
      if (this.#run('DELETE FROM signing_keys WHERE kid = ?', kid) > 0) this.#emit({ kind: 'keys' });
    });
  }

  // ---- housekeeping -----------------------------------------------------------------------

  async purgeExpired(before: number): Promise<number> {
    return this.transaction(async (tx) => {
      const self = tx as SqliteStore;
      let removed = self.#run('DELETE FROM access_tokens WHERE expires_at < ?', before);
      removed += self.#run('DELETE FROM refresh_tokens WHERE expires_at < ?', before);
      removed += self.#run('DELETE FROM sessions WHERE expires_at < ?', before);
      removed += self.#run('DELETE FROM api_keys WHERE expires_at IS NOT NULL AND expires_at < ?', before);
      return removed;
    });
  }
}

/** Hands an event to every listener; one failing listener neither stops the others nor fails the write. */
function deliver(shared: Shared, event: ChangeEvent): void {
  for (const listener of [...shared.listeners]) {
    try {
      listener(event);
    } catch (error) {
      process.emitWarning(`a store change listener failed: ${error instanceof Error ? error.message : String(error)}`, {
        type: 'GatehouseStoreWarning',
      });
    }
  }
}

function rollback(db: DatabaseSync): void {
  if (!db.isTransaction) return; // e.g. SQLITE_FULL already ended it
  try {
    db.exec('ROLLBACK');
  } catch {
    // nothing left to undo
  }
}

function closedError(): StoreUnavailableError {
  return new StoreUnavailableError(new Error('store is closed'));
}

// ---- row mapping (the rest is shared: ../rows.ts) -----------------------------------------

function toPrincipal(r: Row): PrincipalWithSecret {
  return {
    id: String(r.id),
    type: r.type === 'service' ? 'service' : 'user',
    username: String(r.username),
    email: nullableString(r.email),
    passwordHash: nullableString(r.password_hash),
    disabled: Number(r.disabled) === 1,
    admin: Number(r.admin) === 1,
    ipFilter: nullableString(r.ip_filter),
    roles: JSON.parse(String(r.roles_json)) as string[],
    groups: JSON.parse(String(r.groups_json)) as string[],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** Constraint violations become ConflictError; anything else means the database failed. */
function translate(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/UNIQUE constraint failed|PRIMARY KEY/i.test(message)) return new ConflictError(message);
  if (/FOREIGN KEY constraint failed/i.test(message)) return new ConflictError(message);
  return new StoreUnavailableError(error);
}
