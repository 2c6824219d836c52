// PostgreSQL backend on `pg` (pooled), for one or many Gatehouse nodes sharing one database.
//
// - Same schema and meaning as the SQLite backend (times are BIGINT ms, JSON kept as text).
// - Migrations run under a transaction-level advisory lock, so nodes starting together are safe.
// - Changes are announced with NOTIFY inside the writing transaction (delivered on commit) and
//   heard on one dedicated LISTEN connection; listeners in this process are told directly after
//   commit. When the LISTEN connection is lost, and again when it comes back, `{kind:'all'}` is
//   reported, because changes made meanwhile are not heard; hearsChanges() is false meanwhile.
// - A database that cannot be reached surfaces as StoreUnavailableError; unique and foreign key
//   violations as ConflictError.

import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { ConflictError, GatehouseError, StoreUnavailableError, ValidationError } from '../../core/errors.ts';
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
import { postgresMigrations } from '../migrations/postgres.ts';
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
import { clientConfigFromUrl, type PostgresConnection } from './url.ts';

/** A result row: text, BIGINT as number, boolean, text[]; this schema stores no blobs. */
type Row = Record<string, string | number | boolean | null | string[]>;
type Param = string | number | boolean | null | readonly string[] | readonly number[];

/** listHoldings: three lists as JSON arrays of row objects in one round trip instead of three. */
const HOLDINGS_SQL = `SELECT
  (SELECT coalesce(json_agg(json_build_object(${jsonObjectArgs(IDENTITY_COLUMNS)}) ORDER BY provider, external_id), '[]')
     FROM identities WHERE principal_id = $1) AS identities,
  (SELECT coalesce(json_agg(json_build_object(${jsonObjectArgs(API_KEY_COLUMNS)}) ORDER BY created_at, id), '[]')
     FROM api_keys WHERE principal_id = $1) AS api_keys,
  (SELECT coalesce(json_agg(json_build_object(${jsonObjectArgs(SESSION_COLUMNS)}) ORDER BY created_at, id), '[]')
     FROM sessions WHERE principal_id = $1 AND revoked_at IS NULL AND expires_at > $2) AS sessions`;

export interface PostgresStoreOptions {
  /** `postgres://…` URL; see url.ts for the parameters Gatehouse adds (schema, pool_max). */
  readonly url: string;
  /** Keep a LISTEN connection so changes made by other nodes reach onChange (default true). */
  readonly listen?: boolean;
  /** How often the LISTEN connection is checked to be alive, ms (default 5000). */
  readonly heartbeatMs?: number;
}

/** More events than this in one transaction are announced as one `{kind:'all'}`. */
const MAX_EVENTS_PER_COMMIT = 100;
/** NOTIFY payloads must stay below 8000 bytes. */
const MAX_PAYLOAD_BYTES = 7000;
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 2000;

/** BIGINT (int8) columns hold ms timestamps and counts: well inside Number's exact range. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

interface DeploymentKeys {
  readonly channel: string;
  readonly migrateLock: string;
  readonly signingKeysLock: string;
}

interface Shared {
  readonly pool: pg.Pool;
  readonly connection: PostgresConnection;
  readonly listeners: Set<(event: ChangeEvent) => void>;
  /** Identifies this store's own notifications, which it has already delivered locally. */
  readonly origin: string;
  readonly listen: boolean;
  readonly heartbeatMs: number;
  identity: Promise<DeploymentKeys> | null;
  listener: Listener | null;
  closed: boolean;
}

const PRINCIPAL_SELECT = `
SELECT p.*,
  ARRAY(SELECT role FROM principal_roles WHERE principal_id = p.id ORDER BY role) AS roles,
  ARRAY(SELECT group_name FROM group_members WHERE principal_id = p.id ORDER BY group_name) AS group_names
FROM principals p`;

export function openPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const connection = clientConfigFromUrl(options.url);
  const pool = new pg.Pool({ ...connection.client, ...connection.pool, types });
  // Idle clients whose connection dies report here; the pool drops them and opens new ones.
  pool.on('error', () => undefined);
  // A checked-out client whose connection dies between statements reports an 'error' event too;
  // the statement that next uses it fails and the client is discarded on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const shared: Shared = {
    pool,
    connection,
    listeners: new Set(),
    origin: randomUUID(),
    listen: options.listen ?? true,
    heartbeatMs: options.heartbeatMs ?? 5000,
    identity: null,
    listener: null,
    closed: false,
  };
  return new PostgresStore(shared, null);
}

function hasNul(value: Param): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some((v) => typeof v === 'string' && v.includes('\u0000'));
  return false;
}

/** True when the error means the connection (not the statement) failed. */
function isConnectionError(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) return /^(08|57P|53)/.test(error.code ?? '');
  return !(error instanceof GatehouseError);
}

/** Constraint violations become ConflictError; anything else means the database failed. */
function translate(error: unknown): Error {
  if (error instanceof GatehouseError) return error;
  if (error instanceof pg.DatabaseError && (error.code === '23505' || error.code === '23503')) {
    return new ConflictError(error.detail ?? error.message);
  }
  return new StoreUnavailableError(error);
}

export class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  readonly #s: Shared;
  /** The client of the open transaction this view belongs to; null for the pooled store. */
  readonly #tx: pg.PoolClient | null;
  /** Events raised inside a transaction wait here until it commits. */
  readonly #pending: ChangeEvent[] = [];
  /** Set when this view's transaction has committed or rolled back. */
  #ended = false;

  constructor(shared: Shared, tx: pg.PoolClient | null) {
    this.#s = shared;
    this.#tx = tx;
  }

  // ---- plumbing -------------------------------------------------------------------------

  /** A closed store refuses new work; a transaction already open runs to its end (close() waits for it). */
  #checkOpen(): void {
    if (this.#s.closed && !(this.#tx && !this.#ended)) throw new StoreUnavailableError(new Error('store is closed'));
  }

  async #connect(): Promise<pg.PoolClient> {
    this.#checkOpen();
    try {
      return await this.#s.pool.connect();
    } catch (error) {
      throw translate(error);
    }
  }

  /** Runs one statement: on the transaction's client, or on a pooled one. */
  async #query(sql: string, params: readonly Param[] = []): Promise<pg.QueryResult<Row>> {
    if (params.some(hasNul)) {
      // PostgreSQL text cannot hold NUL, so no stored value contains one: such a key matches
      // nothing (as on SQLite), and such a value cannot be written.
      this.#checkOpen();
      if (/^\s*INSERT/i.test(sql)) throw new ValidationError('text containing NUL characters cannot be stored');
      return { rows: [], rowCount: 0, command: '', oid: 0, fields: [] };
    }
    if (this.#tx) {
      if (this.#ended) throw new Error('this transaction has already ended; use the store it came from');
      try {
        return await this.#tx.query<Row>(sql, params as unknown[]);
      } catch (error) {
        throw translate(error);
      }
    }
    // A read that met a connection the server had already dropped is tried once more on a fresh one.
    const attempts = /^\s*SELECT/i.test(sql) ? 2 : 1;
    for (let attempt = 1; ; attempt++) {
      const client = await this.#connect();
      try {
        const result = await client.query<Row>(sql, params as unknown[]);
        client.release();
        return result;
      } catch (error) {
        const broken = isConnectionError(error);
        client.release(broken ? (error as Error) : undefined);
        if (!broken || attempt >= attempts || this.#s.closed) throw translate(error);
      }
    }
  }

  async #rows(sql: string, params: readonly Param[] = []): Promise<Row[]> {
    return (await this.#query(sql, params)).rows;
  }

  async #row(sql: string, params: readonly Param[] = []): Promise<Row | undefined> {
    return (await this.#query(sql, params)).rows[0];
  }

  async #run(sql: string, params: readonly Param[] = []): Promise<number> {
    return (await this.#query(sql, params)).rowCount ?? 0;
  }

  #emit(event: ChangeEvent): void {
    if (this.#tx) {
      this.#pending.push(event);
      return;
    }
    deliver(this.#s, event);
  }

  /** NOTIFY channel and lock keys of this database + search_path (one deployment). */
  async #identity(): Promise<DeploymentKeys> {
    this.#s.identity ??= (async () => {
      const row = await this.#row("SELECT current_setting('search_path') AS search_path");
      const digest = createHash('sha256').update(`gatehouse:${String(row?.search_path ?? '')}`).digest();
      return {
        channel: `gatehouse_${digest.subarray(0, 8).toString('hex')}`,
        migrateLock: digest.readBigInt64BE(8).toString(),
        signingKeysLock: digest.readBigInt64BE(16).toString(),
      };
    })();
    try {
      return await this.#s.identity;
    } catch (error) {
      this.#s.identity = null;
      throw error;
    }
  }

  /** Announces a committed transaction's events to the other nodes (NOTIFY is sent on commit). */
  async #notify(client: pg.PoolClient, events: readonly ChangeEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { channel } = await this.#identity();
    const batches: ChangeEvent[][] = [];
    if (events.length > MAX_EVENTS_PER_COMMIT) batches.push([{ kind: 'all' }]);
    else {
      let batch: ChangeEvent[] = [];
      let size = 0;
      for (const event of events) {
        const bytes = Buffer.byteLength(JSON.stringify(event)) + 1;
        if (batch.length && size + bytes > MAX_PAYLOAD_BYTES) {
          batches.push(batch);
          batch = [];
          size = 0;
        }
        batch.push(event);
        size += bytes;
      }
      batches.push(batch);
    }
    for (const batch of batches) {
      await client.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ o: this.#s.origin, e: batch })]);
    }
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async migrate(): Promise<MigrationReport> {
    const { migrateLock } = await this.#identity();
    const client = await this.#connect();
    const applied: number[] = [];
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        // Every node that starts runs this; the lock makes them take turns.
        await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [migrateLock]);
        const schema = this.#s.connection.schema;
        if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
        );
        const done = new Set(
          (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => Number(r.version)),
        );
        for (const m of postgresMigrations) {
          if (done.has(m.version)) continue;
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            Date.now(),
          ]);
          applied.push(m.version);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } catch (error) {
      if (isConnectionError(error)) broken = error as Error;
      throw translate(error);
    } finally {
      client.release(broken);
    }
    const current = Math.max(0, ...postgresMigrations.map((m) => m.version));
    return { applied, current };
  }

  async ping(): Promise<void> {
    await this.#row('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    if (this.#tx || this.#s.closed) return;
    this.#s.closed = true;
    this.#s.listener?.stop();
    this.#s.listener = null;
    this.#s.listeners.clear();
    await this.#s.pool.end();
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.#tx) return fn(this); // nested: join the open transaction
    const client = await this.#connect();
    const tx = new PostgresStore(this.#s, client);
    try {
      await client.query('BEGIN');
    } catch (error) {
      client.release(error as Error);
      throw translate(error);
    }
    const abort = async (): Promise<void> => {
      tx.#ended = true;
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollbackError) {
        client.release(rollbackError as Error); // the connection is gone, and the transaction with it
      }
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      await abort();
      throw error; // the store's own errors are already translated; the caller's pass through
    }
    try {
      await tx.#notify(client, tx.#pending);
      await client.query('COMMIT');
    } catch (error) {
      await abort();
      throw translate(error);
    }
    tx.#ended = true;
    client.release();
    for (const event of tx.#pending) deliver(this.#s, event);
    return result;
  }

  onChange(listener: (event: ChangeEvent) => void): () => void {
    this.#s.listeners.add(listener);
    if (this.#s.listen && !this.#s.listener && !this.#s.closed) {
      this.#s.listener = new Listener(this.#s, () => this.#identity());
    }
    return () => this.#s.listeners.delete(listener);
  }

  /** False while the LISTEN connection this store keeps is down (or not up yet). */
  hearsChanges(): boolean {
    if (!this.#s.listen) return true;
    return this.#s.listener?.up ?? false;
  }

  /** Nothing to do: other nodes' changes arrive by LISTEN/NOTIFY as they commit. */
  noticeChanges(): void {}

  /** Resolves once the LISTEN connection is up (for tests and orderly start-up); false if not listening. */
  async listening(timeoutMs = 5000): Promise<boolean> {
    return this.#s.listener ? this.#s.listener.ready(timeoutMs) : false;
  }

  // ---- principals --------------------------------------------------------------------------

  async createPrincipal(p: NewPrincipal): Promise<PrincipalWithSecret> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      await self.#run(
        `INSERT INTO principals (id, type, username, email, password_hash, disabled, admin, ip_filter, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
        [p.id, p.type, p.username, p.email ?? null, p.passwordHash ?? null, p.disabled ?? false, p.admin ?? false, p.ipFilter ?? null, p.createdAt],
      );
      await self.#setMemberships(p.id, p.roles ?? [], p.groups ?? []);
      self.#emit({ kind: 'principal', id: p.id });
      const created = await self.#principal('WHERE p.id = $1', [p.id]);
      if (!created) throw new Error('principal vanished after insert');
      return created;
    });
  }

  async #setMemberships(id: string, roles: readonly string[] | undefined, groups: readonly string[] | undefined): Promise<void> {
    if (roles) {
      await this.#run('DELETE FROM principal_roles WHERE principal_id = $1', [id]);
      if (roles.length) {
        await this.#run('INSERT INTO principal_roles (principal_id, role) SELECT $1, unnest($2::text[])', [id, [...new Set(roles)]]);
      }
    }
    if (groups) {
      await this.#run('DELETE FROM group_members WHERE principal_id = $1', [id]);
      if (groups.length) {
        await this.#run('INSERT INTO group_members (principal_id, group_name) SELECT $1, unnest($2::text[])', [
          id,
          [...new Set(groups)],
        ]);
      }
    }
  }

  async #principal(where: string, params: readonly Param[]): Promise<PrincipalWithSecret | null> {
    const row = await this.#row(`${PRINCIPAL_SELECT} ${where}`, params);
    return row ? toPrincipal(row) : null;
  }

  async getPrincipal(id: string): Promise<PrincipalWithSecret | null> {
    return this.#principal('WHERE p.id = $1', [id]);
  }

  async getPrincipalByUsername(username: string): Promise<PrincipalWithSecret | null> {
    return this.#principal('WHERE p.username = $1', [username]);
  }

  async listPrincipals(opts: ListOptions = {}): Promise<PrincipalWithSecret[]> {
    // No stored username contains NUL, so "after x\0…" is the same as "after x".
    const rows = await this.#rows(`${PRINCIPAL_SELECT} WHERE p.username > $1 ORDER BY p.username LIMIT $2`, [
      (opts.after ?? '').split('\u0000', 1)[0] ?? '',
      opts.limit ?? null,
    ]);
    return rows.map(toPrincipal);
  }

  async updatePrincipal(id: string, patch: PrincipalPatch): Promise<PrincipalWithSecret | null> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      // Only the fields the patch names are written, so concurrent patches of other fields survive.
      const sets: string[] = [];
      if ([patch.email, patch.passwordHash, patch.ipFilter, ...(patch.roles ?? []), ...(patch.groups ?? [])].some((v) => typeof v === 'string' && hasNul(v))) {
        throw new ValidationError('text containing NUL characters cannot be stored');
      }
      const params: Param[] = [id];
      const set = (column: string, value: Param) => {
        params.push(value);
        sets.push(`${column} = $${params.length}`);
      };
      if (patch.email !== undefined) set('email', patch.email);
      if (patch.passwordHash !== undefined) set('password_hash', patch.passwordHash);
      if (patch.disabled !== undefined) set('disabled', patch.disabled);
      if (patch.admin !== undefined) set('admin', patch.admin);
      if (patch.ipFilter !== undefined) set('ip_filter', patch.ipFilter);
      set('updated_at', patch.updatedAt);
      if ((await self.#run(`UPDATE principals SET ${sets.join(', ')} WHERE id = $1`, params)) === 0) return null;
      await self.#setMemberships(id, patch.roles, patch.groups);
      self.#emit({ kind: 'principal', id });
      return self.#principal('WHERE p.id = $1', [id]);
    });
  }

  async deletePrincipal(id: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      const keys = await self.#rows('SELECT secret_hash FROM api_keys WHERE principal_id = $1', [id]);
      const removed = (await self.#run('DELETE FROM principals WHERE id = $1', [id])) > 0;
      if (removed) {
        self.#emit({ kind: 'principal', id });
        for (const k of keys) self.#emit({ kind: 'apikey', secretHash: String(k.secret_hash) });
      }
      return removed;
    });
  }

  // ---- identities -------------------------------------------------------------------------

  async upsertIdentity(identity: Identity): Promise<void> {
    await this.#run(
      `INSERT INTO identities (provider, external_id, principal_id, latest_login) VALUES ($1, $2, $3, $4)
       ON CONFLICT (provider, external_id) DO UPDATE SET principal_id = excluded.principal_id, latest_login = excluded.latest_login`,
      [identity.provider, identity.externalId, identity.principalId, identity.latestLogin],
    );
  }

  async listIdentities(principalId: string): Promise<Identity[]> {
    const rows = await this.#rows('SELECT * FROM identities WHERE principal_id = $1 ORDER BY provider, external_id', [principalId]);
    return rows.map(toIdentity);
  }

  // ---- roles and groups -------------------------------------------------------------------

  async putRole(role: Role): Promise<void> {
    await this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      await self.#run(
        `INSERT INTO roles (name, scopes, description) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET scopes = excluded.scopes, description = excluded.description`,
        [role.name, JSON.stringify(role.scopes), role.description],
      );
      self.#emit({ kind: 'policy' });
    });
  }

  async getRole(name: string): Promise<Role | null> {
    const row = await this.#row('SELECT * FROM roles WHERE name = $1', [name]);
    return row ? toRole(row) : null;
  }

  async listRoles(): Promise<Role[]> {
    return (await this.#rows('SELECT * FROM roles ORDER BY name')).map(toRole);
  }

  async deleteRole(name: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      const removed = (await self.#run('DELETE FROM roles WHERE name = $1', [name])) > 0;
      if (removed) self.#emit({ kind: 'policy' });
      return removed;
    });
  }

  async putGroup(group: Group): Promise<void> {
    await this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      await self.#run(
        `INSERT INTO groups (name, roles, attributes) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET roles = excluded.roles, attributes = excluded.attributes`,
        [group.name, JSON.stringify(group.roles), JSON.stringify(group.attributes)],
      );
      self.#emit({ kind: 'policy' });
    });
  }

  async getGroup(name: string): Promise<Group | null> {
    const row = await this.#row('SELECT * FROM groups WHERE name = $1', [name]);
    return row ? toGroup(row) : null;
  }

  async listGroups(): Promise<Group[]> {
    return (await this.#rows('SELECT * FROM groups ORDER BY name')).map(toGroup);
  }

  async deleteGroup(name: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      const members = await self.#rows('DELETE FROM group_members WHERE group_name = $1 RETURNING principal_id', [name]);
      const removed = (await self.#run('DELETE FROM groups WHERE name = $1', [name])) > 0;
      self.#emit({ kind: 'policy' });
      for (const m of members) self.#emit({ kind: 'principal', id: String(m.principal_id) });
      return removed;
    });
  }

  // ---- sessions -------------------------------------------------------------------------

  async createSession(session: Session): Promise<void> {
    await this.#run(
      `INSERT INTO sessions (id, principal_id, created_at, expires_at, revoked_at, last_refreshed_at, refresh_count, client_id, scope)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        session.id,
        session.principalId,
        session.createdAt,
        session.expiresAt,
        session.revokedAt,
        session.lastRefreshedAt,
        session.refreshCount,
        session.clientId,
        session.scope,
      ],
    );
  }

  async getSession(id: string): Promise<Session | null> {
    const row = await this.#row('SELECT * FROM sessions WHERE id = $1', [id]);
    return row ? toSession(row) : null;
  }

  async listSessions(principalId: string, opts: { activeAt?: number } = {}): Promise<Session[]> {
    const rows =
      opts.activeAt === undefined
        ? await this.#rows('SELECT * FROM sessions WHERE principal_id = $1 ORDER BY created_at, id', [principalId])
        : await this.#rows(
            'SELECT * FROM sessions WHERE principal_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at, id',
            [principalId, opts.activeAt],
          );
    return rows.map(toSession);
  }

  async revokeSession(id: string, at: number): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      const changed = (await self.#run('UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])) > 0;
      if (changed) self.#emit({ kind: 'session', id });
      return changed;
    });
  }

  async revokeAllSessions(principalId: string, at: number): Promise<number> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      const ids = await self.#rows(
        'UPDATE sessions SET revoked_at = $1 WHERE principal_id = $2 AND revoked_at IS NULL RETURNING id',
        [at, principalId],
      );
      for (const r of ids) self.#emit({ kind: 'session', id: String(r.id) });
      return ids.length;
    });
  }

  async insertRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.#run('INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES ($1, $2, $3, $4)', [
      token.tokenHash,
      token.sessionId,
      token.expiresAt,
      token.usedAt,
    ]);
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null> {
    const row = await this.#row('SELECT * FROM refresh_tokens WHERE token_hash = $1', [tokenHash]);
    return row ? toRefreshToken(row) : null;
  }

  async listRefreshTokens(sessionId: string): Promise<RefreshTokenRecord[]> {
    const rows = await this.#rows('SELECT * FROM refresh_tokens WHERE session_id = $1 ORDER BY expires_at, token_hash', [sessionId]);
    return rows.map(toRefreshToken);
  }

  async markRefreshTokenUsed(tokenHash: string, at: number): Promise<boolean> {
    return (await this.#run('UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL', [at, tokenHash])) > 0;
  }

  async recordSessionRefreshes(refreshes: ReadonlyMap<string, { readonly count: number; readonly at: number }>): Promise<void> {
    const entries = [...refreshes].filter(([id]) => !hasNul(id));
    if (entries.length === 0) return;
    await this.#run(
      `UPDATE sessions s SET refresh_count = s.refresh_count + v.n,
         last_refreshed_at = GREATEST(COALESCE(s.last_refreshed_at, v.at), v.at)
       FROM unnest($1::text[], $2::int[], $3::bigint[]) AS v(id, n, at)
       WHERE s.id = v.id`,
      [entries.map(([id]) => id), entries.map(([, r]) => r.count), entries.map(([, r]) => r.at)],
    );
  }

  // ---- access tokens, applications, scope catalog ----------------------------------------

  async insertAccessToken(token: AccessTokenRecord): Promise<void> {
    await this.#run('INSERT INTO access_tokens (token_hash, session_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)', [
      token.tokenHash,
      token.sessionId,
      token.issuedAt,
      token.expiresAt,
    ]);
  }

  async getAccessToken(tokenHash: string): Promise<AccessTokenRecord | null> {
    const row = await this.#row('SELECT * FROM access_tokens WHERE token_hash = $1', [tokenHash]);
    return row ? toAccessToken(row) : null;
  }

  async listAccessTokens(sessionId: string): Promise<AccessTokenRecord[]> {
    const rows = await this.#rows('SELECT * FROM access_tokens WHERE session_id = $1 ORDER BY issued_at, token_hash', [sessionId]);
    return rows.map(toAccessToken);
  }

  async putApplication(application: Application): Promise<void> {
    await this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      await self.#run(
        `INSERT INTO applications (client_id, name, scopes, access_token_ttl, grant_ttl, allow_refresh) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, scopes = excluded.scopes,
           access_token_ttl = excluded.access_token_ttl, grant_ttl = excluded.grant_ttl, allow_refresh = excluded.allow_refresh`,
        [
          application.clientId,
          application.name,
          application.scopes,
          application.accessTokenTtl,
          application.grantTtl,
          application.allowRefresh,
        ],
      );
      self.#emit({ kind: 'policy' });
    });
  }

  async getApplication(clientId: string): Promise<Application | null> {
    const row = await this.#row('SELECT * FROM applications WHERE client_id = $1', [clientId]);
    return row ? toApplication(row) : null;
  }

  async listApplications(): Promise<Application[]> {
    return (await this.#rows('SELECT * FROM applications ORDER BY client_id')).map(toApplication);
  }

  async deleteApplication(clientId: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      const grants = await self.#rows('SELECT id FROM sessions WHERE client_id = $1', [clientId]);
      const removed = (await self.#run('DELETE FROM applications WHERE client_id = $1', [clientId])) > 0; // grants go with it
      if (removed) self.#emit({ kind: 'policy' });
      for (const g of grants) self.#emit({ kind: 'session', id: String(g.id) });
      return removed;
    });
  }

  async getScopeCatalog(): Promise<ScopeCatalogEntry[] | null> {
    const row = await this.#row("SELECT value FROM settings WHERE key = 'scopeCatalog'");
    return row ? (JSON.parse(String(row.value)) as ScopeCatalogEntry[]) : null;
  }

  async putScopeCatalog(catalog: readonly ScopeCatalogEntry[] | null): Promise<void> {
    await this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      if (catalog === null) await self.#run("DELETE FROM settings WHERE key = 'scopeCatalog'");
      else {
        await self.#run(
          "INSERT INTO settings (key, value) VALUES ('scopeCatalog', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          [JSON.stringify(catalog.map((e) => ({ scope: e.scope, restrictions: [...e.restrictions] })))],
        );
      }
      self.#emit({ kind: 'policy' });
    });
  }

  // ---- API keys -------------------------------------------------------------------------

  async createApiKey(key: ApiKey): Promise<void> {
    await this.#run(
      `INSERT INTO api_keys (id, principal_id, first_eight, secret_hash, scopes, note, expires_at, created_at, latest_activity)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        key.id,
        key.principalId,
        key.firstEight,
        key.secretHash,
        JSON.stringify(key.scopes),
        key.note,
        key.expiresAt,
        key.createdAt,
        key.latestActivity,
      ],
    );
  }

  async getApiKeyBySecretHash(secretHash: string): Promise<ApiKey | null> {
    const row = await this.#row('SELECT * FROM api_keys WHERE secret_hash = $1', [secretHash]);
    return row ? toApiKey(row) : null;
  }

  async listApiKeys(principalId: string): Promise<ApiKey[]> {
    return (await this.#rows('SELECT * FROM api_keys WHERE principal_id = $1 ORDER BY created_at, id', [principalId])).map(toApiKey);
  }

  async listHoldings(principalId: string, activeAt: number): Promise<Holdings> {
    const row = await this.#row(HOLDINGS_SQL, [principalId, activeAt]);
    // json columns arrive parsed; BIGINTs inside JSON are plain numbers
    const list = (column: string) => (row?.[column] ?? []) as unknown as Row[];
    return {
      identities: list('identities').map(toIdentity),
      apiKeys: list('api_keys').map(toApiKey),
      sessions: list('sessions').map(toSession),
    };
  }

  async findApiKeyByFirstEight(principalId: string, firstEight: string): Promise<ApiKey | null> {
    const row = await this.#row(
      'SELECT * FROM api_keys WHERE principal_id = $1 AND first_eight = $2 ORDER BY created_at, id LIMIT 1',
      [principalId, firstEight],
    );
    return row ? toApiKey(row) : null;
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      const row = await self.#row('DELETE FROM api_keys WHERE id = $1 RETURNING secret_hash', [id]);
      if (!row) return false;
      self.#emit({ kind: 'apikey', secretHash: String(row.secret_hash) });
      return true;
    });
  }

  async touchApiKeys(activity: ReadonlyMap<string, number>): Promise<void> {
    const entries = [...activity].filter(([id]) => !hasNul(id));
    if (entries.length === 0) return;
    await this.#run(
      `UPDATE api_keys k SET latest_activity = v.at
       FROM unnest($1::text[], $2::bigint[]) AS v(id, at)
       WHERE k.id = v.id AND (k.latest_activity IS NULL OR k.latest_activity < v.at)`,
      [entries.map(([id]) => id), entries.map(([, at]) => at)],
    );
  }

  // ---- signing keys -----------------------------------------------------------------------

  async insertSigningKey(key: SigningKey): Promise<void> {
    await this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      await self.#run(
        'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [key.kid, key.alg, JSON.stringify(key.publicJwk), JSON.stringify(key.privateJwk), key.createdAt, key.retiredAt],
      );
      self.#emit({ kind: 'keys' });
    });
  }

  async listSigningKeys(): Promise<SigningKey[]> {
    if (this.#tx) {
      // Read inside a transaction to decide a rotation: transactions doing so take turns (as all
      // do on SQLite), so nodes rotating at once see each other's new key and make only one.
      await this.#run('SELECT pg_advisory_xact_lock($1::bigint)', [(await this.#identity()).signingKeysLock]);
    }
    return (await this.#rows('SELECT * FROM signing_keys ORDER BY created_at, kid')).map((r) => ({
      kid: String(r.kid),
      alg: 'EdDSA' as const,
      publicJwk: JSON.parse(String(r.public_jwk)) as Record<string, unknown>,
      privateJwk: JSON.parse(String(r.private_jwk)) as Record<string, unknown>,
      createdAt: Number(r.created_at),
      retiredAt: nullableNumber(r.retired_at),
    }));
  }

  async retireSigningKey(kid: string, at: number): Promise<void> {
    await this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      await self.#run('UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL', [at, kid]);
      self.#emit({ kind: 'keys' });
    });
  }

  async deleteSigningKey(kid: string): Promise<void> {
    await this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      await self.#run('DELETE FROM signing_keys WHERE kid = $1', [kid]);
      self.#emit({ kind: 'keys' });
    });
  }

  // ---- housekeeping -----------------------------------------------------------------------

  async purgeExpired(before: number): Promise<number> {
    return this.transaction(async (tx) => {
      const self = tx as PostgresStore;
      let removed = await self.#run('DELETE FROM access_tokens WHERE expires_at < $1', [before]);
      removed += await self.#run('DELETE FROM refresh_tokens WHERE expires_at < $1', [before]);
      removed += await self.#run('DELETE FROM sessions WHERE expires_at < $1', [before]);
      removed += await self.#run('DELETE FROM api_keys WHERE expires_at IS NOT NULL AND expires_at < $1', [before]);
      return removed;
    });
  }
}

// ---- change notifications -------------------------------------------------------------------

function deliver(shared: Shared, event: ChangeEvent): void {
  for (const listener of shared.listeners) {
    try {
      listener(event);
    } catch {
      // one failing listener must not keep the others from hearing about the change
    }
  }
}

const EVENT_KINDS = new Set(['policy', 'principal', 'apikey', 'session', 'keys', 'all']);

/** The events in a notification from another node; anything unreadable means "drop every cache". */
export function parseNotification(payload: string | undefined, ownOrigin: string): ChangeEvent[] {
  try {
    const message = JSON.parse(payload ?? '') as { o?: unknown; e?: unknown };
    if (message.o === ownOrigin) return [];
    if (!Array.isArray(message.e)) return [{ kind: 'all' }];
    const events = message.e as { kind?: unknown }[];
    if (events.every((e) => typeof e === 'object' && e !== null && EVENT_KINDS.has(String(e.kind)))) {
      return events as ChangeEvent[];
    }
  } catch {
    // fall through
  }
  return [{ kind: 'all' }];
}

/**
 * The dedicated LISTEN connection. It reconnects by itself (with backoff) whenever the
 * connection fails or a heartbeat goes unanswered, and reports `{kind:'all'}` when it loses the
 * connection (what is cached can no longer be kept current) and each time it (re)starts
 * listening, since changes made while it was away were not heard.
 */
class Listener {
  readonly #s: Shared;
  readonly #identity: () => Promise<{ channel: string }>;
  #client: pg.Client | null = null;
  #timer: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #delay = RECONNECT_MIN_MS;
  #stopped = false;
  #up = false;
  #waiters: (() => void)[] = [];

  constructor(shared: Shared, identity: () => Promise<{ channel: string }>) {
    this.#s = shared;
    this.#identity = identity;
    void this.#connect();
  }

  get up(): boolean {
    return this.#up;
  }

  ready(timeoutMs: number): Promise<boolean> {
    if (this.#up) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({ ...this.#s.connection.client, types });
    this.#client = client;
    const lost = () => this.#lost(client);
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (this.#client !== client) return;
      for (const event of parseNotification(message.payload, this.#s.origin)) deliver(this.#s, event);
    });
    let listen: string;
    try {
      await client.connect();
      listen = `LISTEN ${client.escapeIdentifier((await this.#identity()).channel)}`;
      await client.query(listen);
    } catch {
      lost();
      return;
    }
    if (this.#client !== client || this.#stopped) return;
    this.#delay = RECONNECT_MIN_MS;
    this.#up = true;
    // The heartbeat repeats the (idempotent) LISTEN: it proves the connection is alive, and the
    // connection keeps showing as "LISTEN gatehouse_…" in pg_stat_activity.
    this.#heartbeat = setInterval(() => {
      client.query(listen).catch(lost);
    }, this.#s.heartbeatMs);
    this.#heartbeat.unref();
    deliver(this.#s, { kind: 'all' });
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = null;
    const wasUp = this.#up;
    this.#up = false;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    client.removeAllListeners('notification');
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    if (this.#stopped) return;
    // changes made from now on go unheard until the connection is back: what was cached may
    // become stale unnoticed, so caches drop it now (and keep nothing until hearsChanges())
    if (wasUp) deliver(this.#s, { kind: 'all' });
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, RECONNECT_MAX_MS);
    this.#timer = setTimeout(() => void this.#connect(), delay);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    if (client) this.#lost(client);
  }
}

// ---- row mapping (the rest is shared: ../rows.ts) -----------------------------------------

function toPrincipal(r: Row): PrincipalWithSecret {
  return {
    id: String(r.id),
    type: r.type === 'service' ? 'service' : 'user',
    username: String(r.username),
    email: nullableString(r.email),
    passwordHash: nullableString(r.password_hash),
    disabled: r.disabled === true,
    admin: r.admin === true,
    ipFilter: nullableString(r.ip_filter),
    roles: (r.roles as string[] | null) ?? [],
    groups: (r.group_names as string[] | null) ?? [],
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
