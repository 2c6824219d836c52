// Turns a presented credential into an AuthContext: who is calling and with which scopes.
// Scopes are computed from the policy in force on every request, never taken from the token.

import { apiKeyDigest, safeEqual } from '../auth/secrets.ts';
import {
  AccountNotAuthorizedError,
  InvalidApiKeyError,
  InvalidTokenError,
  SessionExpiredError,
} from '../core/errors.ts';
import type { ApiKey, PrincipalWithSecret } from '../core/model.ts';
import { PUBLIC_ROLE } from '../core/builtin.ts';
import { apiKeyEffectiveScopes, resolve, type Resolution } from '../core/policy.ts';
import type { Clock } from '../core/time.ts';
import type { Store } from '../store/store.ts';
import type { ActivityRecorder } from './activity.ts';
import type { AuthContext, Credential } from './context.ts';
import type { KeyService } from './keys.ts';
import type { PolicyCache } from './policy-cache.ts';

export const ACCESS_TOKEN_TYPE = 'access';

export class AuthService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #keys: KeyService;
  readonly #policy: PolicyCache;
  readonly #activity: ActivityRecorder;

  constructor(store: Store, clock: Clock, keys: KeyService, policy: PolicyCache, activity: ActivityRecorder) {
    this.#store = store;
    this.#clock = clock;
    this.#keys = keys;
    this.#policy = policy;
    this.#activity = activity;
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
    const policy = await this.#policy.get();
    const scopes = policy.roles.get(PUBLIC_ROLE) ?? [];
    const resolution: Resolution =
      scopes.length > 0 ? resolve(policy, { roles: [PUBLIC_ROLE], groups: [] }) : { roles: [], scopes: [], grants: [] };
    return { method: 'anonymous', principal: null, ...resolution, apiKey: null, sessionId: null };
  }

  /** Roles and scopes of a principal under the current policy. */
  async resolvePrincipal(principal: PrincipalWithSecret): Promise<Resolution> {
    return resolve(await this.#policy.get(), principal);
  }

  async #fromToken(token: string): Promise<AuthContext> {
    const now = this.#clock.now();
    const ring = await this.#keys.ringFor(token);
    const claims = await ring.verify(token, now, ACCESS_TOKEN_TYPE);
    const sid = typeof claims.sid === 'string' ? claims.sid : null;
    if (sid) {
      const session = await this.#store.getSession(sid);
      if (!session || session.revokedAt !== null || session.expiresAt <= now || session.principalId !== claims.sub) {
        throw new SessionExpiredError();
      }
    }
    const principal = await this.#store.getPrincipal(claims.sub);
    if (!principal) throw new InvalidTokenError('principal no longer exists');
    if (principal.disabled) throw new AccountNotAuthorizedError('disabled');
    const resolution = await this.resolvePrincipal(principal);
    return { method: 'token', principal, ...resolution, apiKey: null, sessionId: sid };
  }

  async #fromApiKey(secret: string): Promise<AuthContext> {
    const { key, principal } = await this.lookupApiKey(secret);
    const owner = await this.resolvePrincipal(principal);
    const scopes = apiKeyEffectiveScopes(key.scopes, owner.scopes);
    const held = new Set(scopes);
    this.#activity.record(key.id, this.#clock.now());
    return {
      method: 'apikey',
      principal,
      roles: owner.roles,
      scopes,
      grants: owner.grants.filter((g) => held.has(g.scope)),
      apiKey: key,
      sessionId: null,
    };
  }

  /**
   * The stored key for a presented secret and its owner, if the key may be used now (not
   * expired, owner present and enabled); otherwise InvalidApiKeyError.
   */
  async lookupApiKey(secret: string): Promise<{ key: ApiKey; principal: PrincipalWithSecret }> {
    const digest = apiKeyDigest(secret);
    if (!digest) throw new InvalidApiKeyError();
    const key = await this.#store.getApiKeyBySecretHash(digest);
    if (!key || !safeEqual(key.secretHash, digest)) throw new InvalidApiKeyError();
    if (key.expiresAt !== null && key.expiresAt <= this.#clock.now()) throw new InvalidApiKeyError();
    const principal = await this.#store.getPrincipal(key.principalId);
    if (!principal || principal.disabled) throw new InvalidApiKeyError();
    return { key, principal };
  }
}
