// Login, refresh with rotation and reuse detection, logout, session revocation.

import { newId, newRefreshToken, sha256Hex } from '../auth/secrets.ts';
import type { PasswordHasher } from '../auth/passwords.ts';
import {
  AccountNotAuthorizedError,
  InvalidCredentialsError,
  NotFoundError,
  RefreshTokenReusedError,
  SessionExpiredError,
} from '../core/errors.ts';
import type { PrincipalWithSecret, Session } from '../core/model.ts';
import type { Clock } from '../core/time.ts';
import type { Store } from '../store/store.ts';
import { ACCESS_TOKEN_TYPE, type AuthService } from './authenticate.ts';
import type { AuthContext } from './context.ts';
import type { KeyService } from './keys.ts';
import type { SessionActivity } from './activity.ts';

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** Seconds. */
  readonly expiresIn: number;
  readonly refreshTokenExpiresIn: number;
  readonly sessionId: string;
  readonly principal: PrincipalWithSecret;
}

/** How one kind of session is refreshed (see SessionService.rotate). */
export interface Rotation {
  /** Refuses (throws) a session or principal this refresh does not serve; runs before anything is written. */
  accept(session: Session, principal: PrincipalWithSecret): Promise<void>;
  /** When the new refresh token expires. */
  refreshExpiresAt(session: Session, now: number): number;
  /** More writes that belong to the rotation (e.g. a new opaque access token). */
  inTransaction?(tx: Store, session: Session, now: number): Promise<void>;
  /**
   * Seconds a used refresh token still refreshes (a concurrent refresh by the same client);
   * 0 = strictly single use. Default: the `refreshReuseGrace` setting.
   */
  readonly reuseGrace?: number;
}

export interface Rotated {
  readonly session: Session;
  readonly principal: PrincipalWithSecret;
  readonly refreshToken: string;
  readonly now: number;
}

export interface SessionSettings {
  readonly accessTokenTtl: number; // seconds
  readonly refreshTokenTtl: number;
  readonly sessionMaxAge: number;
  /** Seconds a used refresh token still refreshes (concurrent refreshes); 0 = strictly single use. */
  readonly refreshReuseGrace: number;
  readonly passwordProviders: readonly string[];
}

export interface SessionEvents {
  onLoginFailure?(reason: string): void;
  onRefreshReuse?(sessionId: string): void;
}

export class SessionService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #keys: KeyService;
  readonly #auth: AuthService;
  readonly #passwords: PasswordHasher;
  readonly #settings: SessionSettings;
  readonly #events: SessionEvents;
  readonly #activity: SessionActivity;

  constructor(
    store: Store,
    clock: Clock,
    keys: KeyService,
    auth: AuthService,
    passwords: PasswordHasher,
    settings: SessionSettings,
    activity: SessionActivity,
    events: SessionEvents = {},
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#keys = keys;
    this.#auth = auth;
    this.#passwords = passwords;
    this.#settings = settings;
    this.#events = events;
    this.#activity = activity;
  }

  isPasswordProvider(provider: string): boolean {
    return this.#settings.passwordProviders.includes(provider);
  }

  /** Checks a username and password; the same error for an unknown user and a wrong password. */
  async checkPassword(username: string, password: string): Promise<PrincipalWithSecret> {
    const principal = await this.#store.getPrincipalByUsername(username);
    if (!principal?.passwordHash) {
      await this.#passwords.verifyDummy(password);
      this.#events.onLoginFailure?.('invalid_credentials');
      throw new InvalidCredentialsError();
    }
    if (!(await this.#passwords.verify(principal.passwordHash, password))) {
      this.#events.onLoginFailure?.('invalid_credentials');
      throw new InvalidCredentialsError();
    }
    if (principal.disabled) {
      this.#events.onLoginFailure?.('disabled');
      throw new AccountNotAuthorizedError('disabled');
    }
    if ((await this.#auth.resolvePrincipal(principal)).roles.length === 0) {
      this.#events.onLoginFailure?.('no_roles');
      throw new AccountNotAuthorizedError('no_roles');
    }
    if (this.#passwords.needsRehash(principal.passwordHash)) {
      const passwordHash = await this.#passwords.hash(password);
      await this.#store.updatePrincipal(principal.id, { passwordHash, updatedAt: this.#clock.now() });
    }
    return principal;
  }

  /** Password login through a provider: starts a session and returns its first token pair. */
  async login(provider: string, username: string, password: string): Promise<TokenPair> {
    if (!this.isPasswordProvider(provider)) throw new NotFoundError('provider', provider);
    const principal = await this.checkPassword(username, password);
    const now = this.#clock.now();
    const session: Session = {
      id: newId(),
      principalId: principal.id,
      createdAt: now,
      expiresAt: now + this.#settings.sessionMaxAge * 1000,
      revokedAt: null,
      lastRefreshedAt: null,
      refreshCount: 0,
      clientId: null,
      scope: null,
    };
    const refreshToken = newRefreshToken();
    await this.#store.transaction(async (tx) => {
      await tx.upsertIdentity({ provider, externalId: principal.username, principalId: principal.id, latestLogin: now });
      await tx.createSession(session);
      await tx.insertRefreshToken(this.#refreshRecord(refreshToken, session, now));
    });
    return this.#tokens(principal, session, refreshToken, now);
  }

  /**
   * Exchanges a refresh token for a new pair. A token presented again after it was used revokes
   * its whole session — except within the short grace period after its first use, where it is a
   * concurrent refresh by the same client (two threads holding the same token) and gets a pair too.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const refreshTtlMs = this.#settings.refreshTokenTtl * 1000;
    const rotated = await this.rotate(refreshToken, {
      accept: async (session, principal) => {
        // a Venafi TPP grant is refreshed at its own endpoint only
        if (session.clientId !== null) throw new SessionExpiredError();
        if (principal.disabled || (await this.#auth.resolvePrincipal(principal)).roles.length === 0) {
          throw new AccountNotAuthorizedError(principal.disabled ? 'disabled' : 'no_roles');
        }
      },
      refreshExpiresAt: (session, now) => Math.min(now + refreshTtlMs, session.expiresAt),
    });
    return this.#tokens(rotated.principal, rotated.session, rotated.refreshToken, rotated.now);
  }

  /**
   * The refresh rule every kind of session shares: the presented token must be known, unused
   * (or used within the rotation's grace window: a concurrent refresh) and belong to a live
   * session of an existing principal that `rotation.accept` takes; then it is used up and a new
   * one issued in one transaction. A token presented again after the window revokes its whole
   * session; with a window of 0 any second presentation does.
   */
  async rotate(refreshToken: string, rotation: Rotation): Promise<Rotated> {
    const now = this.#clock.now();
    const graceMs = (rotation.reuseGrace ?? this.#settings.refreshReuseGrace) * 1000;
    const tokenHash = sha256Hex(refreshToken);
    const record = await this.#store.getRefreshToken(tokenHash);
    if (!record) throw new SessionExpiredError();
    if (record.usedAt !== null && (graceMs === 0 || now - record.usedAt > graceMs)) return this.#reuse(record.sessionId, now);
    const session = await this.#store.getSession(record.sessionId);
    if (!session || session.revokedAt !== null || session.expiresAt <= now || record.expiresAt <= now) {
      throw new SessionExpiredError();
    }
    const principal = (await this.#auth.principal(session.principalId))?.principal;
    if (!principal) throw new SessionExpiredError();
    await rotation.accept(session, principal);
    const next = newRefreshToken();
    const done = await this.#store.transaction(async (tx) => {
      const first = record.usedAt === null && (await tx.markRefreshTokenUsed(tokenHash, now));
      if (!first && graceMs === 0) return false; // lost a race for a strictly single-use token
      await tx.insertRefreshToken({ tokenHash: sha256Hex(next), sessionId: session.id, expiresAt: rotation.refreshExpiresAt(session, now), usedAt: null });
      await rotation.inTransaction?.(tx, session, now);
      return true;
    });
    if (!done) return this.#reuse(session.id, now);
    this.#activity.refreshed(session.id, now); // the counters are written in batches
    return { session, principal, refreshToken: next, now };
  }

  async #reuse(sessionId: string, now: number): Promise<never> {
    await this.#store.revokeSession(sessionId, now);
    this.#events.onRefreshReuse?.(sessionId);
    throw new RefreshTokenReusedError(sessionId);
  }

  /** A session as stored, with the refreshes not yet written counted in. */
  withActivity(session: Session): Session {
    const pending = this.#activity.pending(session.id);
    if (pending === undefined) return session;
    return {
      ...session,
      refreshCount: session.refreshCount + pending.count,
      lastRefreshedAt: Math.max(session.lastRefreshedAt ?? pending.at, pending.at),
    };
  }

  /** Ends the session the caller's token belongs to (no-op for API keys). */
  async logout(ctx: AuthContext): Promise<void> {
    if (ctx.sessionId) await this.#store.revokeSession(ctx.sessionId, this.#clock.now());
  }

  /**
   * Revokes one of the caller's own sessions. An unknown session is "not found"; another
   * principal's session, or any session for a caller without credentials, is a "foreign session".
   */
  async revoke(ctx: AuthContext, sessionId: string): Promise<void> {
    const id = sessionId.toLowerCase(); // ids are issued in lower case; clients may print them upper
    const session = await this.#store.getSession(id);
    if (!session) throw new NotFoundError('session', sessionId);
    if (!ctx.principal || session.principalId !== ctx.principal.id) throw new NotFoundError('foreign session', sessionId);
    await this.#store.revokeSession(id, this.#clock.now());
  }

  #refreshRecord(token: string, session: Session, now: number) {
    return {
      tokenHash: sha256Hex(token),
      sessionId: session.id,
      expiresAt: Math.min(now + this.#settings.refreshTokenTtl * 1000, session.expiresAt),
      usedAt: null,
    };
  }

  async #tokens(principal: PrincipalWithSecret, session: Session, refreshToken: string, now: number): Promise<TokenPair> {
    const identities = await this.#store.listIdentities(principal.id);
    const ring = await this.#keys.ring();
    const accessToken = await ring.sign(
      {
        type: ACCESS_TOKEN_TYPE,
        sid: session.id,
        sub_typ: principal.type,
        ids: identities.map((i) => ({ id: i.externalId, idp: i.provider })),
      },
      principal.id,
      now,
      this.#settings.accessTokenTtl,
    );
    return {
      accessToken,
      refreshToken,
      expiresIn: this.#settings.accessTokenTtl,
      refreshTokenExpiresIn: this.#settings.refreshTokenTtl,
      sessionId: session.id,
      principal,
    };
  }
}
