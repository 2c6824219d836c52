// Principals, sessions, API keys, TPP access tokens and verified access tokens held in memory for
// the hot paths, so that a request with a credential in use needs no database read.
//
// Correctness rules:
// - Every entry is dropped on the store's change event that concerns it ('principal', 'apikey',
//   'session'), and everything on 'all' (another process wrote to SQLite, or the PostgreSQL
//   LISTEN connection came back). In-process writes deliver their events right after commit, so
//   the next request already misses the entry; other nodes' writes arrive by NOTIFY or polling.
// - A load that raced with an invalidation is not kept: every event bumps an epoch, and a loaded
//   value is stored only when the epoch did not move while it was read.
// - Nothing is kept while the store does not hear other nodes' changes (its LISTEN connection
//   is down): requests then read the store, and fail when it cannot answer.
// - What depends on the policy (a principal's resolution) remembers the policy object it was
//   computed under and is recomputed when the policy in force is another object.
// - Nothing time-dependent is decided here: callers check expiry against their clock at every use.
// - Every cache is bounded (least recently used entries go first).

import type { KeyRing } from '../auth/jwt.ts';
import type { AccessTokenRecord, ApiKey, Policy, PrincipalWithSecret, Session } from '../core/model.ts';
import type { Resolution } from '../core/policy.ts';
import type { ChangeEvent, Store } from '../store/store.ts';
import type { AuthContext } from './context.ts';
import { Lru } from './lru.ts';
import type { PolicyCache } from './policy-cache.ts';

/** Entries per cache by default: more principals, keys and tokens in use than this go to the store. */
export const DEFAULT_CACHE_ENTRIES = 10_000;

/** A principal as stored and what it holds under one policy. */
export interface PrincipalEntry {
  readonly principal: PrincipalWithSecret;
  readonly policy: Policy;
  readonly resolution: Resolution;
}

/** An API key as stored, and the context it gives under its owner's entry (set by the caller). */
export interface ApiKeyEntry {
  readonly key: ApiKey;
  derived: { readonly owner: PrincipalEntry; readonly context: AuthContext } | null;
}

/** What a verified access token says, kept until it expires (the caller checks `exp`). */
export interface VerifiedToken {
  /** The key ring that verified it: trusted only while that ring is the one in force. */
  readonly ring: KeyRing;
  readonly sub: string;
  readonly sid: string | null;
  /** Seconds since the epoch. */
  readonly exp: number;
  readonly nbf: number | null;
}

export class CredentialCache {
  readonly #store: Store;
  readonly #policy: PolicyCache;
  readonly #principals: Lru<string, PrincipalEntry>;
  readonly #sessions: Lru<string, Session>;
  readonly #apiKeys: Lru<string, ApiKeyEntry>;
  readonly #accessTokens: Lru<string, AccessTokenRecord>;
  readonly #tokens: Lru<string, VerifiedToken>;
  /** Bumped by every invalidation. */
  #epoch = 0;
  readonly #unsubscribe: () => void;

  constructor(store: Store, policy: PolicyCache, entries = DEFAULT_CACHE_ENTRIES) {
    this.#store = store;
    this.#policy = policy;
    this.#principals = new Lru(entries);
    this.#sessions = new Lru(entries);
    this.#apiKeys = new Lru(entries);
    this.#accessTokens = new Lru(entries);
    this.#tokens = new Lru(entries);
    this.#unsubscribe = store.onChange((event) => this.#changed(event));
  }

  #changed(event: ChangeEvent): void {
    this.#epoch++;
    switch (event.kind) {
      case 'principal':
        this.#principals.delete(event.id);
        break;
      case 'apikey':
        this.#apiKeys.delete(event.secretHash);
        break;
      case 'session':
        this.#sessions.delete(event.id);
        break;
      case 'keys':
        // verified tokens hold the ring that verified them and are not trusted under another;
        // dropping them frees the memory at once
        this.#tokens.clear();
        break;
      case 'policy':
        // resolutions remember their policy; the PolicyCache drops the policy itself
        break;
      case 'all':
        this.clear();
        break;
    }
  }

  /**
   * Lets the store report changes made elsewhere before an answer comes from memory (SQLite
   * looks at its data_version, at most every 10 ms; see Store.noticeChanges). Called once per
   * request by the services that answer from here.
   */
  noticeChanges(): void {
    this.#store.noticeChanges();
  }

  /** Drops everything. */
  clear(): void {
    this.#epoch++;
    this.#principals.clear();
    this.#sessions.clear();
    this.#apiKeys.clear();
    this.#accessTokens.clear();
    this.#tokens.clear();
  }

  /** How many entries each cache holds (for tests and diagnostics). */
  sizes(): Record<'principals' | 'sessions' | 'apiKeys' | 'accessTokens' | 'tokens', number> {
    return {
      principals: this.#principals.size,
      sessions: this.#sessions.size,
      apiKeys: this.#apiKeys.size,
      accessTokens: this.#accessTokens.size,
      tokens: this.#tokens.size,
    };
  }

  /** Whether a value read at `epoch` may be kept: nothing changed since, and changes are heard. */
  #keeps(epoch: number): boolean {
    return epoch === this.#epoch && this.#store.hearsChanges();
  }

  // ---- principals -----------------------------------------------------------------------------

  /** The principal's entry if it is cached and resolved under the policy in force. */
  peekPrincipal(id: string): PrincipalEntry | undefined {
    const entry = this.#principals.get(id);
    return entry && entry.policy === this.#policy.current() ? entry : undefined;
  }

  /** The principal and its resolution under the policy in force; null when it does not exist. */
  async principal(id: string): Promise<PrincipalEntry | null> {
    const cached = this.#principals.get(id);
    const current = this.#policy.current();
    if (cached && cached.policy === current) return cached;
    const epoch = this.#epoch;
    // a cached principal whose policy changed is still current itself (a change of the
    // principal drops the entry): only its resolution is recomputed
    const principal = cached?.principal ?? (await this.#store.getPrincipal(id));
    if (!principal) return null;
    return this.#enter(principal, epoch);
  }

  async #enter(principal: PrincipalWithSecret, epoch: number): Promise<PrincipalEntry> {
    const policy = await this.#policy.get();
    const entry: PrincipalEntry = { principal, policy, resolution: this.#policy.resolve(policy, principal) };
    if (this.#keeps(epoch)) this.#principals.set(principal.id, entry);
    return entry;
  }

  // ---- sessions -------------------------------------------------------------------------------

  /** The session as stored (revoked and expired ones too: the caller decides); null when unknown. */
  async session(id: string): Promise<Session | null> {
    const cached = this.#sessions.get(id);
    if (cached) return cached;
    const epoch = this.#epoch;
    const session = await this.#store.getSession(id);
    if (session && this.#keeps(epoch)) this.#sessions.set(id, session);
    return session;
  }

  // ---- API keys -------------------------------------------------------------------------------

  /** The stored key with this secret digest (expired ones too: the caller decides); null when unknown. */
  async apiKey(secretHash: string): Promise<ApiKeyEntry | null> {
    const cached = this.#apiKeys.get(secretHash);
    if (cached) return cached;
    const epoch = this.#epoch;
    const key = await this.#store.getApiKeyBySecretHash(secretHash);
    if (!key) return null;
    const entry: ApiKeyEntry = { key, derived: null };
    if (this.#keeps(epoch)) this.#apiKeys.set(secretHash, entry);
    return entry;
  }

  // ---- TPP access tokens ----------------------------------------------------------------------

  /**
   * The stored access token with this digest; null when unknown. A record never changes; it is
   * deleted only with its session (whose own entry tells) or once expired (the caller checks).
   */
  async accessToken(tokenHash: string): Promise<AccessTokenRecord | null> {
    const cached = this.#accessTokens.get(tokenHash);
    if (cached) return cached;
    const epoch = this.#epoch;
    const record = await this.#store.getAccessToken(tokenHash);
    if (record && this.#keeps(epoch)) this.#accessTokens.set(tokenHash, record);
    return record;
  }

  /**
   * Drops what is held for these credentials, so the next look-up reads the store. Used to
   * confirm a refusal: a cached entry may predate a deletion that cascaded without an event of
   * its own (a principal's sessions and tokens go with it), and the store then tells which
   * refusal it is.
   */
  forget(what: { readonly principal?: string; readonly session?: string; readonly accessToken?: string }): void {
    if (what.principal !== undefined) this.#principals.delete(what.principal);
    if (what.session !== undefined) this.#sessions.delete(what.session);
    if (what.accessToken !== undefined) this.#accessTokens.delete(what.accessToken);
  }

  // ---- verified access tokens -----------------------------------------------------------------

  /** A token verified before with `ring`, by the token's digest; undefined otherwise. */
  verifiedToken(digest: string, ring: KeyRing | null): VerifiedToken | undefined {
    const entry = this.#tokens.get(digest);
    if (!entry) return undefined;
    if (entry.ring !== ring) {
      this.#tokens.delete(digest);
      return undefined;
    }
    return entry;
  }

  rememberToken(digest: string, token: VerifiedToken): void {
    this.#tokens.set(digest, token);
  }

  forgetToken(digest: string): void {
    this.#tokens.delete(digest);
  }

  close(): void {
    this.#unsubscribe();
  }
}
