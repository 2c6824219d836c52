// API keys: 72-hex secrets shown once; only the first eight characters and a SHA-256 digest are
// kept. A key's scopes are stored as asked (or `inherit`) and capped by its owner's at use.

import { apiKeyDigest, newApiKeySecret, newId } from '../auth/secrets.ts';
import { InvalidApiKeyError, NotAuthenticatedError, NotFoundError, ScopesNotSubsetError, ValidationError } from '../core/errors.ts';
import type { ApiKey } from '../core/model.ts';
import { newApiKeyScopes } from '../core/policy.ts';
import type { Clock } from '../core/time.ts';
import type { Store } from '../store/store.ts';
import type { ApiKeyActivity } from './activity.ts';
import type { AuthService } from './authenticate.ts';
import type { AuthContext } from './context.ts';

export interface NewApiKeyParams {
  /** Seconds until expiry; null = never. */
  readonly expiresIn: number | null;
  /** Null = the default (`inherit`). */
  readonly scopes: readonly string[] | null;
  readonly note: string | null;
}

export interface CreatedApiKey {
  readonly key: ApiKey;
  readonly secret: string;
}

export const MAX_API_KEY_LIFETIME = 100 * 365 * 86400; // seconds

export class ApiKeyService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #auth: AuthService;
  readonly #activity: ApiKeyActivity;

  constructor(store: Store, clock: Clock, auth: AuthService, activity: ApiKeyActivity) {
    this.#store = store;
    this.#clock = clock;
    this.#auth = auth;
    this.#activity = activity;
  }

  /** A key for the caller, within the caller's scopes (or within the key the caller used). */
  async create(ctx: AuthContext, params: NewApiKeyParams): Promise<CreatedApiKey> {
    if (!ctx.principal) throw new NotAuthenticatedError();
    const sourceScopes = ctx.apiKey ? ctx.apiKey.scopes : null;
    return this.#issue(ctx.principal.id, params, ctx.scopes, sourceScopes);
  }

  /** A key for another principal (admin), capped by that principal's scopes. */
  async createFor(principalId: string, params: NewApiKeyParams): Promise<CreatedApiKey> {
    const principal = await this.#store.getPrincipal(principalId);
    if (!principal) throw new NotFoundError('principal', principalId);
    const resolution = await this.#auth.resolvePrincipal(principal);
    return this.#issue(principal.id, params, resolution.scopes, null);
  }

  async #issue(
    principalId: string,
    params: NewApiKeyParams,
    allowed: readonly string[],
    sourceScopes: readonly string[] | null,
  ): Promise<CreatedApiKey> {
    if (params.expiresIn !== null && Math.abs(params.expiresIn) > MAX_API_KEY_LIFETIME) {
      throw new ValidationError(`expires_in must be between -${MAX_API_KEY_LIFETIME} and ${MAX_API_KEY_LIFETIME} seconds`, 'expires_in');
    }
    const decided = newApiKeyScopes(params.scopes, allowed, sourceScopes);
    if (!decided.ok) throw new ScopesNotSubsetError(decided.requested, decided.allowed);
    const now = this.#clock.now();
    const secret = newApiKeySecret();
    const key: ApiKey = {
      id: newId(),
      principalId,
      firstEight: secret.slice(0, 8),
      secretHash: apiKeyDigest(secret) as string,
      scopes: decided.scopes,
      note: params.note,
      expiresAt: params.expiresIn === null ? null : now + params.expiresIn * 1000,
      createdAt: now,
      latestActivity: null,
    };
    await this.#store.createApiKey(key);
    return { key, secret };
  }

  /** The key a secret belongs to (keys that may be used now only), with its latest use. */
  async info(secret: string): Promise<ApiKey> {
    const { key } = await this.#auth.lookupApiKey(secret);
    // the key as stored now: its last use may have been written since it was cached (here or by
    // another node)
    const stored = await this.#store.getApiKeyBySecretHash(key.secretHash);
    if (!stored) throw new InvalidApiKeyError();
    return this.withActivity(stored);
  }

  async list(principalId: string): Promise<ApiKey[]> {
    return (await this.#store.listApiKeys(principalId)).map((k) => this.withActivity(k));
  }

  /** Deletes the caller's key whose secret starts with `firstEight`. */
  async revoke(ctx: AuthContext, firstEight: string): Promise<void> {
    if (!ctx.principal) throw new NotAuthenticatedError();
    await this.revokeFor(ctx.principal.id, firstEight);
  }

  async revokeFor(principalId: string, firstEight: string): Promise<void> {
    const key = await this.#store.findApiKeyByFirstEight(principalId, firstEight.slice(0, 8).toLowerCase());
    if (!key) throw new NotFoundError('api key', firstEight);
    await this.#store.deleteApiKey(key.id);
  }

  withActivity(key: ApiKey): ApiKey {
    const pending = this.#activity.pending(key.id);
    if (pending === undefined || (key.latestActivity ?? 0) >= pending) return key;
    return { ...key, latestActivity: pending };
  }
}
