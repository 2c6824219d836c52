// Turns a presented credential into an AuthContext: who is calling and with which scopes.
// Scopes are computed from the policy in force, never taken from the token. A credential in use
// is answered from memory (see credential-cache.ts: every entry is dropped on the store's change
// events); expiry is checked against the clock at every use.

import { apiKeyDigest, sha256Hex } from '../auth/secrets.ts';
import {
  AccountNotAuthorizedError,
  GatehouseError,
  InvalidApiKeyError,
  InvalidTokenError,
  SessionExpiredError,
  TokenExpiredError,
} from '../core/errors.ts';
import type { ApiKey, PrincipalWithSecret } from '../core/model.ts';
import { PUBLIC_ROLE } from '../core/builtin.ts';
import { apiKeyEffectiveScopes, type Resolution } from '../core/policy.ts';
import type { Clock } from '../core/time.ts';
import type { ApiKeyActivity } from './activity.ts';
import type { AuthContext, Credential } from './context.ts';
import type { CredentialCache, PrincipalEntry, VerifiedToken } from './credential-cache.ts';
import type { KeyService } from './keys.ts';
import type { PolicyCache } from './policy-cache.ts';

export const ACCESS_TOKEN_TYPE = 'access';

const NO_RESOLUTION: Resolution = Object.freeze({ roles: Object.freeze([]), scopes: Object.freeze([]), grants: Object.freeze([]) });

export class AuthService {
  readonly #clock: Clock;
  readonly #keys: KeyService;
  readonly #policy: PolicyCache;
  readonly #activity: ApiKeyActivity;
  readonly #cache: CredentialCache;

  constructor(clock: Clock, keys: KeyService, policy: PolicyCache, activity: ApiKeyActivity, cache: CredentialCache) {
    this.#clock = clock;
    this.#keys = keys;
    this.#policy = policy;
    this.#activity = activity;
    this.#cache = cache;
  }

  async authenticate(credential: Credential): Promise<AuthContext> {
    switch (credential.kind) {
      case 'bearer':
        return this.#fromToken(credential.token);
      case 'apikey':
        return this.#fromApiKey(credential.secret);
      case 'none':
        return this.anonymous();
    }
  }

  /** The caller without credentials: the public role's scopes (none by default). */
  async anonymous(): Promise<AuthContext> {
    const policy = this.#policy.current() ?? (await this.#policy.get());
    const scopes = policy.roles.get(PUBLIC_ROLE) ?? [];
    const resolution = scopes.length > 0 ? this.#policy.resolve(policy, { roles: [PUBLIC_ROLE], groups: [] }) : NO_RESOLUTION;
    return { method: 'anonymous', principal: null, ...resolution, apiKey: null, sessionId: null };
  }

  /** Roles and scopes of a principal under the current policy. */
  async resolvePrincipal(principal: PrincipalWithSecret): Promise<Resolution> {
    const policy = this.#policy.current() ?? (await this.#policy.get());
    return this.#policy.resolve(policy, principal);
  }

  /**
   * The principal with this id and its resolution under the policy in force (from memory when
   * it is there); null when it does not exist.
   */
  async principal(id: string): Promise<PrincipalEntry | null> {
    this.#cache.noticeChanges();
    return this.#principal(id);
  }

  async #principal(id: string): Promise<PrincipalEntry | null> {
    return this.#cache.peekPrincipal(id) ?? this.#cache.principal(id);
  }

  async #fromToken(token: string): Promise<AuthContext> {
    this.#cache.noticeChanges();
    const now = this.#clock.now();
    const claims = await this.#verified(token, now);
    try {
      return await this.#tokenContext(claims, now);
    } catch (error) {
      if (!(error instanceof GatehouseError)) throw error;
      // a refusal is confirmed with the store, which tells which one it is (e.g. the sessions
      // of a deleted principal are gone with it, without events of their own)
      this.#cache.forget({ principal: claims.sub, ...(claims.sid !== null ? { session: claims.sid } : {}) });
      return this.#tokenContext(claims, now);
    }
  }

  async #tokenContext(claims: VerifiedToken, now: number): Promise<AuthContext> {
    const sid = claims.sid;
    if (sid !== null) {
      const session = await this.#cache.session(sid);
      if (!session || session.revokedAt !== null || session.expiresAt <= now || session.principalId !== claims.sub) {
        throw new SessionExpiredError();
      }
    }
    const entry = await this.#principal(claims.sub);
    if (!entry) throw new InvalidTokenError('principal no longer exists');
    const { principal, resolution } = entry;
    if (principal.disabled) throw new AccountNotAuthorizedError('disabled');
    return {
      method: 'token',
      principal,
      roles: resolution.roles,
      scopes: resolution.scopes,
      grants: resolution.grants,
      apiKey: null,
      sessionId: sid,
    };
  }

  /**
   * The claims of a valid access token. A token is verified once and then remembered by its
   * digest for as long as the key ring that verified it is in force; its time claims are checked
   * against the clock on every use, as the verifier checks them (whole seconds, no tolerance).
   */
  async #verified(token: string, now: number): Promise<VerifiedToken> {
    const digest = sha256Hex(token);
    const known = this.#cache.verifiedToken(digest, this.#keys.currentRing());
    const seconds = Math.floor(now / 1000);
    if (known) {
      if (known.nbf !== null && known.nbf > seconds) throw new InvalidTokenError();
      if (known.exp <= seconds) {
        this.#cache.forgetToken(digest);
        throw new TokenExpiredError();
      }
      return known;
    }
    const ring = await this.#keys.ringFor(token);
    const claims = await ring.verify(token, now, ACCESS_TOKEN_TYPE);
    if (typeof claims.exp !== 'number') throw new InvalidTokenError(); // required by verify; for the type
    const verified: VerifiedToken = {
      ring,
      sub: claims.sub,
      sid: typeof claims.sid === 'string' ? claims.sid : null,
      exp: claims.exp,
      nbf: typeof claims.nbf === 'number' ? claims.nbf : null,
    };
    this.#cache.rememberToken(digest, verified);
    return verified;
  }

  async #fromApiKey(secret: string): Promise<AuthContext> {
    const { key, owner, entry } = await this.#apiKey(secret);
    let derived = entry.derived;
    if (derived === null || derived.owner !== owner) {
      const { principal, resolution } = owner;
      const scopes = Object.freeze(apiKeyEffectiveScopes(key.scopes, resolution.scopes));
      const held = new Set(scopes);
      const context: AuthContext = Object.freeze({
        method: 'apikey',
        principal,
        roles: resolution.roles,
        scopes,
        grants: Object.freeze(resolution.grants.filter((g) => held.has(g.scope))),
        apiKey: key,
        sessionId: null,
      });
      derived = { owner, context };
      entry.derived = derived;
    }
    this.#activity.record(key.id, this.#clock.now());
    return derived.context;
  }

  /**
   * The stored key for a presented secret and its owner, if the key may be used now (not
   * expired, owner present and enabled); otherwise InvalidApiKeyError.
   */
  async lookupApiKey(secret: string): Promise<{ key: ApiKey; principal: PrincipalWithSecret }> {
    const { key, owner } = await this.#apiKey(secret);
    return { key, principal: owner.principal };
  }

  async #apiKey(secret: string) {
    const digest = apiKeyDigest(secret);
    if (!digest) throw new InvalidApiKeyError();
    this.#cache.noticeChanges();
    // found by its exact digest (a map key here, a unique index in the store)
    const entry = await this.#cache.apiKey(digest);
    if (!entry) throw new InvalidApiKeyError();
    const key = entry.key;
    if (key.expiresAt !== null && key.expiresAt <= this.#clock.now()) throw new InvalidApiKeyError();
    const owner = await this.#principal(key.principalId);
    if (!owner || owner.principal.disabled) throw new InvalidApiKeyError();
    return { key, owner, entry };
  }
}
