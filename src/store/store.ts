// The one storage seam. Every backend (SQLite, PostgreSQL) implements this interface and
// passes the same contract suite (test/contract/store-contract.ts). Times are ms since epoch.

import type {
  AccessTokenRecord,
  ApiKey,
  Application,
  Group,
  Identity,
  PrincipalType,
  PrincipalWithSecret,
  RefreshTokenRecord,
  Role,
  ScopeCatalogEntry,
  Session,
  SigningKey,
} from '../core/model.ts';

export interface NewPrincipal {
  readonly id: string;
  readonly type: PrincipalType;
  readonly username: string;
  readonly email?: string | null;
  readonly passwordHash?: string | null;
  readonly disabled?: boolean;
  readonly admin?: boolean;
  readonly ipFilter?: string | null;
  readonly roles?: readonly string[];
  readonly groups?: readonly string[];
  readonly createdAt: number;
}

export interface PrincipalPatch {
  readonly email?: string | null;
  readonly passwordHash?: string | null;
  readonly disabled?: boolean;
  readonly admin?: boolean;
  readonly ipFilter?: string | null;
  readonly roles?: readonly string[];
  readonly groups?: readonly string[];
  readonly updatedAt: number;
}

export interface ListOptions {
  /** Return items whose sort key is greater than this (keyset pagination). */
  readonly after?: string;
  readonly limit?: number;
}

/** What belongs to one principal, as `whoami` shows it: read together in one statement. */
export interface Holdings {
  /** Ordered by provider, then external id. */
  readonly identities: Identity[];
  /** Ordered by creation time, then id. */
  readonly apiKeys: ApiKey[];
  /** The sessions neither revoked nor expired at `activeAt`, ordered by creation time, then id. */
  readonly sessions: Session[];
}

/** What changed, so caches (in this process or on other nodes) can be invalidated. */
export type ChangeEvent =
  | { readonly kind: 'policy' }
  | { readonly kind: 'principal'; readonly id: string }
  | { readonly kind: 'apikey'; readonly secretHash: string }
  | { readonly kind: 'session'; readonly id: string }
  | { readonly kind: 'keys' }
  /** Another process changed the database in ways not described; drop every cache. */
  | { readonly kind: 'all' };

export interface MigrationReport {
  readonly applied: readonly number[];
  readonly current: number;
}

export interface Store {
  readonly backend: 'sqlite' | 'postgres';

  /** Applies pending migrations (safe when several nodes start at once). */
  migrate(): Promise<MigrationReport>;
  /** Cheap liveness query; throws StoreUnavailableError when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Runs `fn` atomically: every write inside commits together or not at all. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Subscribes to changes made through any store on the same database; returns an unsubscribe. */
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /**
   * Whether changes made elsewhere reach onChange now. False while a change feed that was asked
   * for is down (PostgreSQL: the LISTEN connection is lost; `{kind:'all'}` is reported when it
   * is lost and again when it is back): caches must then not keep what they read. A store opened
   * without a feed (no polling, no LISTEN) answers true: its user has said that no one else
   * writes.
   */
  hearsChanges(): boolean;
  /**
   * Looks for changes made elsewhere now, where the backend can do so cheaply, and reports them
   * to onChange before it returns (SQLite: the data_version check of the poller, at most once
   * every 10 ms; PostgreSQL: nothing, notifications arrive by themselves). Caches call it before
   * answering from memory, so a write by another process is seen by the next request (within
   * 10 ms when requests come faster than that).
   */
  noticeChanges(): void;

  // principals
  createPrincipal(p: NewPrincipal): Promise<PrincipalWithSecret>;
  getPrincipal(id: string): Promise<PrincipalWithSecret | null>;
  getPrincipalByUsername(username: string): Promise<PrincipalWithSecret | null>;
  listPrincipals(opts?: ListOptions): Promise<PrincipalWithSecret[]>;
  updatePrincipal(id: string, patch: PrincipalPatch): Promise<PrincipalWithSecret | null>;
  deletePrincipal(id: string): Promise<boolean>;

  // identities (provider + external id -> principal)
  upsertIdentity(identity: Identity): Promise<void>;
  listIdentities(principalId: string): Promise<Identity[]>;

  // roles and groups
  putRole(role: Role): Promise<void>;
  getRole(name: string): Promise<Role | null>;
  listRoles(): Promise<Role[]>;
  deleteRole(name: string): Promise<boolean>;
  putGroup(group: Group): Promise<void>;
  getGroup(name: string): Promise<Group | null>;
  listGroups(): Promise<Group[]>;
  deleteGroup(name: string): Promise<boolean>;

  // sessions and refresh tokens
  createSession(session: Session): Promise<void>;
  getSession(id: string): Promise<Session | null>;
  listSessions(principalId: string, opts?: { activeAt?: number }): Promise<Session[]>;
  revokeSession(id: string, at: number): Promise<boolean>;
  revokeAllSessions(principalId: string, at: number): Promise<number>;
  insertRefreshToken(token: RefreshTokenRecord): Promise<void>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /** Every refresh token of a session, used or not (for copying a deployment). */
  listRefreshTokens(sessionId: string): Promise<RefreshTokenRecord[]>;
  /** Marks an unused token used; false if it was already used (the caller lost a race or it is a replay). */
  markRefreshTokenUsed(tokenHash: string, at: number): Promise<boolean>;
  /**
   * Adds refreshes to sessions' counters: `count` more refreshes, the latest at `at` (kept only
   * if later than the stored time). Unknown ids are skipped.
   */
  recordSessionRefreshes(refreshes: ReadonlyMap<string, { readonly count: number; readonly at: number }>): Promise<void>;

  // opaque access tokens of Venafi TPP grants (a grant is a session with a client id)
  insertAccessToken(token: AccessTokenRecord): Promise<void>;
  getAccessToken(tokenHash: string): Promise<AccessTokenRecord | null>;
  /** Every access token of a session (for copying a deployment). */
  listAccessTokens(sessionId: string): Promise<AccessTokenRecord[]>;

  // applications (Venafi API integrations) and the TPP scope catalog; both report a policy change
  putApplication(application: Application): Promise<void>;
  getApplication(clientId: string): Promise<Application | null>;
  /** Sorted by client id. */
  listApplications(): Promise<Application[]>;
  /** Deletes the application together with every grant (session) issued to it. */
  deleteApplication(clientId: string): Promise<boolean>;
  /** The stored catalog in its order; null when none is stored (the default applies). */
  getScopeCatalog(): Promise<ScopeCatalogEntry[] | null>;
  /** Stores the catalog; null removes it (back to the default). */
  putScopeCatalog(catalog: readonly ScopeCatalogEntry[] | null): Promise<void>;

  // API keys
  createApiKey(key: ApiKey): Promise<void>;
  getApiKeyBySecretHash(secretHash: string): Promise<ApiKey | null>;
  listApiKeys(principalId: string): Promise<ApiKey[]>;
  /**
   * A principal's identities, API keys and sessions active at `activeAt` (as listIdentities,
   * listApiKeys and listSessions with activeAt return them), in one read; empty lists for an
   * unknown principal.
   */
  listHoldings(principalId: string, activeAt: number): Promise<Holdings>;
  findApiKeyByFirstEight(principalId: string, firstEight: string): Promise<ApiKey | null>;
  deleteApiKey(id: string): Promise<boolean>;
  /** Batched write of last-use times: id -> time. */
  touchApiKeys(activity: ReadonlyMap<string, number>): Promise<void>;

  // signing keys
  insertSigningKey(key: SigningKey): Promise<void>;
  listSigningKeys(): Promise<SigningKey[]>;
  retireSigningKey(kid: string, at: number): Promise<void>;
  deleteSigningKey(kid: string): Promise<void>;

  // housekeeping
  /** Deletes sessions, refresh and access tokens and API keys that expired before `before`; returns rows removed. */
  purgeExpired(before: number): Promise<number>;
}
