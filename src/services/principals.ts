// Reading principals with everything known about them (identities, keys, sessions, activity).

import { NotAuthenticatedError, NotFoundError } from '../core/errors.ts';
import type { ApiKey, Identity, PrincipalWithSecret, Session } from '../core/model.ts';
import type { Clock } from '../core/time.ts';
import type { ListOptions, Store } from '../store/store.ts';
import type { ApiKeyService } from './api-keys.ts';
import type { AuthContext } from './context.ts';
import type { SessionService } from './sessions.ts';

export interface PrincipalDetails {
  readonly principal: PrincipalWithSecret;
  readonly identities: readonly Identity[];
  readonly apiKeys: readonly ApiKey[];
  /** Sessions that are neither revoked nor expired. */
  readonly sessions: readonly Session[];
  readonly latestActivity: number | null;
}

export class PrincipalService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #apiKeys: ApiKeyService;
  readonly #sessions: SessionService;

  constructor(store: Store, clock: Clock, apiKeys: ApiKeyService, sessions: SessionService) {
    this.#store = store;
    this.#clock = clock;
    this.#apiKeys = apiKeys;
    this.#sessions = sessions;
  }

  async whoami(ctx: AuthContext): Promise<PrincipalDetails> {
    if (!ctx.principal) throw new NotAuthenticatedError();
    return this.details(ctx.principal);
  }

  async get(id: string): Promise<PrincipalDetails> {
    const principal = await this.#store.getPrincipal(id);
    if (!principal) throw new NotFoundError('principal', id);
    return this.details(principal);
  }

  async list(opts: ListOptions = {}): Promise<PrincipalDetails[]> {
    const principals = await this.#store.listPrincipals(opts);
    return Promise.all(principals.map((p) => this.details(p)));
  }

  async details(principal: PrincipalWithSecret): Promise<PrincipalDetails> {
    const holdings = await this.#store.listHoldings(principal.id, this.#clock.now());
    const { identities } = holdings;
    const apiKeys = holdings.apiKeys.map((k) => this.#apiKeys.withActivity(k));
    const sessions = holdings.sessions.map((s) => this.#sessions.withActivity(s));
    const times = [
      ...identities.map((i) => i.latestLogin),
      ...apiKeys.map((k) => k.latestActivity),
      ...sessions.map((s) => s.lastRefreshedAt ?? s.createdAt),
    ].filter((t): t is number => t !== null);
    return {
      principal,
      identities,
      apiKeys,
      sessions,
      latestActivity: times.length ? Math.max(...times) : null,
    };
  }
}
