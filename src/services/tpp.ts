// Venafi TPP-style OAuth: a password grant for an application (client_id) gives an opaque
// access token and, if the application allows it, a rotating refresh token. A grant is a session
// carrying its client id and granted scope; its tokens die with it. The scope a token confers is
// recomputed on every use from the policy in force (granted ∩ application ∩ user).

import { randomBytes } from 'node:crypto';
import { newId, newRefreshToken, sha256Hex } from '../auth/secrets.ts';
import {
  AccountNotAuthorizedError,
  GatehouseError,
  InsufficientScopeError,
  InvalidGrantError,
  InvalidScopeRequestError,
  InvalidTokenError,
  NoGrantableScopeError,
  SessionExpiredError,
  TokenExpiredError,
  UnknownApplicationError,
} from '../core/errors.ts';
import type { AccessTokenRecord, Application, PrincipalWithSecret, ScopeCatalogEntry, Session } from '../core/model.ts';
import type { Clock } from '../core/time.ts';
import {
  ADMIN_SCOPE,
  catalogScopeSet,
  checkRequestedScope,
  DEFAULT_SCOPE_CATALOG,
  grantTppScope,
  storedTppScope,
  userTppScopes,
} from '../core/tpp.ts';
import { printTppScope, type TppScopeSet } from '../core/tpp-scope.ts';
import type { Store } from '../store/store.ts';
import type { AuthService } from './authenticate.ts';
import type { CredentialCache } from './credential-cache.ts';
import type { SessionService } from './sessions.ts';

/** Longest string taken for an access token: ours are 44 characters. */
const MAX_TOKEN_LENGTH = 1024;

/** What the token endpoints hand out. Times are ms since the epoch. */
export interface TppTokens {
  readonly accessToken: string;
  /** Null when the application does not allow refresh. */
  readonly refreshToken: string | null;
  readonly accessIssuedAt: number;
  readonly accessExpiresAt: number;
  /** The grant's end: its refresh tokens' `refresh_until`, never moved by a refresh. */
  readonly grantExpiresAt: number;
  readonly principalId: string;
  /** Normalized scope the access token confers. */
  readonly scope: string;
}

/** What a valid access token stands for. Times are ms since the epoch. */
export interface TppTokenInfo {
  readonly clientId: string;
  readonly principalId: string;
  readonly scope: string;
  readonly accessIssuedAt: number;
  readonly accessExpiresAt: number;
  readonly grantIssuedAt: number;
  readonly grantExpiresAt: number;
}

export interface AuthorizeRequest {
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  readonly scope: string;
}

/** Applications and the catalog, as held in memory until the store reports a policy change. */
interface TppPolicy {
  readonly catalog: readonly ScopeCatalogEntry[];
  readonly catalogSet: TppScopeSet;
  readonly applications: ReadonlyMap<string, { readonly application: Application; readonly scopes: TppScopeSet }>;
}

/** Opaque access token: 32 random bytes, base64 (as TPP's tokens look). */
export function newTppAccessToken(): string {
  return randomBytes(32).toString('base64');
}

export class TppService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #auth: AuthService;
  readonly #sessions: SessionService;
  readonly #cache: CredentialCache;
  #policy: TppPolicy | null = null;
  #loading: Promise<TppPolicy> | null = null;
  #generation = 0;
  readonly #unsubscribe: () => void;

  constructor(store: Store, clock: Clock, auth: AuthService, sessions: SessionService, cache: CredentialCache) {
    this.#store = store;
    this.#cache = cache;
    this.#clock = clock;
    this.#auth = auth;
    this.#sessions = sessions;
    this.#unsubscribe = store.onChange((event) => {
      if (event.kind === 'policy' || event.kind === 'all') {
        this.#generation++;
        this.#policy = null;
        this.#loading = null;
      }
    });
  }

  close(): void {
    this.#unsubscribe();
  }

  /** The scope catalog in force, in its order. */
  async catalog(): Promise<readonly ScopeCatalogEntry[]> {
    return (await this.#load()).catalog;
  }

  /** POST /authorize/oauth: a new grant for a user of an application, with its first tokens. */
  async authorize(request: AuthorizeRequest): Promise<TppTokens> {
    const policy = await this.#load();
    const app = policy.applications.get(request.clientId);
    if (!app) throw new UnknownApplicationError(request.clientId);
    const asked = checkRequestedScope(request.scope, app.scopes);
    if (!asked.ok) throw new InvalidScopeRequestError(asked.error);
    const principal = await this.#sessions.checkPassword(request.username, request.password);
    const granted = grantTppScope(asked.scopes, app.scopes, await this.#userScopes(principal, policy));
    if (granted.size === 0) throw new NoGrantableScopeError();

    const now = this.#clock.now();
    const session: Session = {
      id: newId(),
      principalId: principal.id,
      createdAt: now,
      expiresAt: now + app.application.grantTtl * 1000,
      revokedAt: null,
      lastRefreshedAt: null,
      refreshCount: 0,
      clientId: app.application.clientId,
      scope: printTppScope(granted),
    };
    const access = accessToken(session, app.application, now);
    const refreshToken = app.application.allowRefresh ? newRefreshToken() : null;
    await this.#store.transaction(async (tx) => {
      await tx.createSession(session);
      await tx.insertAccessToken(access.record);
      if (refreshToken !== null) {
        await tx.insertRefreshToken({ tokenHash: sha256Hex(refreshToken), sessionId: session.id, expiresAt: session.expiresAt, usedAt: null });
      }
    });
    return tokens(access, refreshToken, session, session.scope ?? '');
  }

  /**
   * POST /authorize/token: a new access token and a new refresh token for a refresh token of
   * this client's grant; the grant's end does not move. TPP refresh tokens are strictly single
   * use: a second presentation, even at once, is reuse and revokes the grant (no grace window).
   */
  async refresh(clientId: string, refreshToken: string): Promise<TppTokens> {
    const policy = await this.#load();
    const app = policy.applications.get(clientId);
    if (!app) throw new UnknownApplicationError(clientId);
    const issued: { scope?: string; access?: { token: string; record: AccessTokenRecord } } = {};
    const rotated = await this.#sessions.rotate(refreshToken, {
      accept: async (session, principal) => {
        if (session.clientId === null) throw new InvalidGrantError('not the refresh token of a TPP grant');
        if (session.clientId !== clientId) throw new InvalidGrantError('the refresh token was issued to another client');
        if (!app.application.allowRefresh) throw new InvalidGrantError('the application does not allow refresh');
        if (principal.disabled) throw new AccountNotAuthorizedError('disabled');
        const effective = grantTppScope(storedTppScope(session.scope ?? ''), app.scopes, await this.#userScopes(principal, policy));
        if (effective.size === 0) throw new NoGrantableScopeError('the user no longer holds any of the granted scopes');
        issued.scope = printTppScope(effective);
      },
      refreshExpiresAt: (session) => session.expiresAt,
      reuseGrace: 0,
      inTransaction: async (tx, session, now) => {
        issued.access = accessToken(session, app.application, now);
        await tx.insertAccessToken(issued.access.record);
      },
    });
    if (!issued.access || issued.scope === undefined) throw new Error('the rotation issued no access token');
    return tokens(issued.access, rotated.refreshToken, rotated.session, issued.scope);
  }

  /** GET /authorize/verify: what a valid access token stands for, with the scope it confers now. */
  async verify(token: string): Promise<TppTokenInfo> {
    const { record, session, principal } = await this.#lookup(token);
    if (principal.disabled) throw new AccountNotAuthorizedError('disabled');
    const policy = await this.#load();
    const app = policy.applications.get(session.clientId ?? '');
    if (!app) throw new SessionExpiredError(); // the application is gone (its grants go with it)
    const effective = grantTppScope(storedTppScope(session.scope ?? ''), app.scopes, await this.#userScopes(principal, policy));
    if (effective.size === 0) throw new NoGrantableScopeError('the user no longer holds any of the granted scopes');
    return {
      clientId: app.application.clientId,
      principalId: principal.id,
      scope: printTppScope(effective),
      accessIssuedAt: record.issuedAt,
      accessExpiresAt: record.expiresAt,
      grantIssuedAt: session.createdAt,
      grantExpiresAt: session.expiresAt,
    };
  }

  /** GET /revoke/token: ends the grant the access token belongs to, with all its tokens. */
  async revoke(token: string): Promise<void> {
    const { session } = await this.#lookup(token);
    await this.#store.revokeSession(session.id, this.#clock.now());
  }

  /** POST /vedsdk/oauth/getscopes: the catalog, for a token that confers the `admin` scope. */
  async getScopes(token: string): Promise<readonly ScopeCatalogEntry[]> {
    const info = await this.verify(token);
    if (!storedTppScope(info.scope).has(ADMIN_SCOPE)) throw new InsufficientScopeError([ADMIN_SCOPE], [info.scope]);
    return this.catalog();
  }

  /** A live access token of a live grant, and its principal. */
  async #lookup(token: string): Promise<{ record: AccessTokenRecord; session: Session; principal: PrincipalWithSecret }> {
    if (token === '' || token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('malformed access token');
    const tokenHash = sha256Hex(token);
    this.#cache.noticeChanges();
    try {
      return await this.#lookupHash(tokenHash);
    } catch (error) {
      if (!(error instanceof GatehouseError)) throw error;
      // a refusal is confirmed with the store, which tells which one it is (a grant's tokens go
      // with it when its principal or application is deleted)
      const record = await this.#cache.accessToken(tokenHash);
      const session = record ? await this.#cache.session(record.sessionId) : null;
      this.#cache.forget({
        accessToken: tokenHash,
        ...(record ? { session: record.sessionId } : {}),
        ...(session ? { principal: session.principalId } : {}),
      });
      return this.#lookupHash(tokenHash);
    }
  }

  async #lookupHash(tokenHash: string): Promise<{ record: AccessTokenRecord; session: Session; principal: PrincipalWithSecret }> {
    // from memory when in use (credential-cache.ts): the session's and the principal's entries
    // are dropped on their change events, and expiry is checked here on every use
    const record = await this.#cache.accessToken(tokenHash);
    if (!record) throw new InvalidTokenError('unknown access token');
    const now = this.#clock.now();
    if (record.expiresAt <= now) throw new TokenExpiredError();
    const session = await this.#cache.session(record.sessionId);
    if (!session || session.clientId === null || session.revokedAt !== null || session.expiresAt <= now) {
      throw new SessionExpiredError();
    }
    const principal = (await this.#auth.principal(session.principalId))?.principal;
    if (!principal) throw new InvalidTokenError('principal no longer exists');
    return { record, session, principal };
  }

  async #userScopes(principal: PrincipalWithSecret, policy: TppPolicy): Promise<TppScopeSet> {
    return userTppScopes((await this.#auth.resolvePrincipal(principal)).scopes, policy.catalogSet);
  }

  async #load(): Promise<TppPolicy> {
    if (this.#policy) return this.#policy;
    if (this.#loading) return this.#loading;
    const generation = this.#generation;
    const loading = (async () => {
      const [stored, applications] = await Promise.all([this.#store.getScopeCatalog(), this.#store.listApplications()]);
      const catalog = stored ?? DEFAULT_SCOPE_CATALOG;
      const policy: TppPolicy = {
        catalog,
        catalogSet: catalogScopeSet(catalog),
        applications: new Map(applications.map((a) => [a.clientId, { application: a, scopes: storedTppScope(a.scopes) }])),
      };
      if (generation === this.#generation) this.#policy = policy;
      return policy;
    })();
    this.#loading = loading;
    try {
      return await loading;
    } finally {
      if (this.#loading === loading) this.#loading = null;
    }
  }
}

/** A new access token of a grant: the application's lifetime, never beyond the grant's end. */
function accessToken(session: Session, app: Application, now: number): { token: string; record: AccessTokenRecord } {
  const token = newTppAccessToken();
  return {
    token,
    record: {
      tokenHash: sha256Hex(token),
      sessionId: session.id,
      issuedAt: now,
      expiresAt: Math.min(now + app.accessTokenTtl * 1000, session.expiresAt),
    },
  };
}

function tokens(access: { token: string; record: AccessTokenRecord }, refreshToken: string | null, session: Session, scope: string): TppTokens {
  return {
    accessToken: access.token,
    refreshToken,
    accessIssuedAt: access.record.issuedAt,
    accessExpiresAt: access.record.expiresAt,
    grantExpiresAt: session.expiresAt,
    principalId: session.principalId,
    scope,
  };
}
