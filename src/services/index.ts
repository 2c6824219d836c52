// Wires the services together over one store. Faces and the CLI receive a Services object and
// never touch the store themselves.

import { PasswordHasher } from '../auth/passwords.ts';
import type { Config } from '../config.ts';
import { systemClock, type Clock } from '../core/time.ts';
import type { Store } from '../store/store.ts';
import { ApiKeyActivity, SessionActivity } from './activity.ts';
import { ApiKeyService } from './api-keys.ts';
import { ApplicationService } from './applications.ts';
import { AuthService } from './authenticate.ts';
import { CredentialCache } from './credential-cache.ts';
import { BundleService } from './bundle.ts';
import { KeyService } from './keys.ts';
import { PolicyCache } from './policy-cache.ts';
import { PrincipalService } from './principals.ts';
import { SessionService, type SessionEvents } from './sessions.ts';
import { TppService } from './tpp.ts';
import { UserService } from './users.ts';

export interface Services {
  readonly config: Config;
  readonly clock: Clock;
  readonly store: Store;
  readonly keys: KeyService;
  readonly policy: PolicyCache;
  readonly auth: AuthService;
  readonly sessions: SessionService;
  readonly apiKeys: ApiKeyService;
  readonly principals: PrincipalService;
  readonly users: UserService;
  readonly bundles: BundleService;
  /** The Venafi TPP OAuth flows (grants, opaque tokens, getscopes). */
  readonly tpp: TppService;
  readonly applications: ApplicationService;
  readonly passwords: PasswordHasher;
  /** Last-use times of API keys, written in batches. */
  readonly activity: ApiKeyActivity;
  /** Refresh counters of sessions, written in batches. */
  readonly sessionActivity: SessionActivity;
  /** Credentials and principals in use, held in memory for the hot paths. */
  readonly cache: CredentialCache;
  /** Hooks the HTTP layer sets to count events (metrics); optional. */
  readonly events: SessionEvents;
  /** Database reachable? Used by /readyz. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  readonly clock?: Clock;
  /** Create a signing key if none exists / rotate when due (servers do; read-only CLI commands need not). */
  readonly ensureKeys?: boolean;
}

export async function createServices(config: Config, store: Store, options: ServiceOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const passwords = new PasswordHasher(
    { memoryKiB: config.argon2MemoryKiB, iterations: config.argon2Iterations, parallelism: config.argon2Parallelism },
    config.passwordConcurrency,
  );
  const keys = new KeyService(store, clock, {
    issuer: config.issuer,
    maxTokenTtlMs: config.accessTokenTtl * 1000,
    rotationIntervalMs: config.keyRotationInterval * 1000,
  });
  const policy = new PolicyCache(store);
  const activity = new ApiKeyActivity(store, clock, config.activityFlushInterval * 1000, config.activityResolution * 1000);
  const sessionActivity = new SessionActivity(store, config.activityFlushInterval * 1000);
  const cache = new CredentialCache(store, policy);
  const auth = new AuthService(clock, keys, policy, activity, cache);
  const events: SessionEvents = {};
  const sessions = new SessionService(store, clock, keys, auth, passwords, config, sessionActivity, {
    onLoginFailure: (reason) => events.onLoginFailure?.(reason),
    onRefreshReuse: (sid) => events.onRefreshReuse?.(sid),
  });
  const apiKeys = new ApiKeyService(store, clock, auth, activity);
  const principals = new PrincipalService(store, clock, apiKeys, sessions);
  const users = new UserService(store, clock, passwords, policy);
  const bundles = new BundleService(store, clock, passwords);
  const tpp = new TppService(store, clock, auth, sessions, cache);
  const applications = new ApplicationService(store);
  if (options.ensureKeys ?? true) await keys.ensureSigningKey();
  let closed = false;
  return {
    config,
    clock,
    store,
    keys,
    policy,
    auth,
    sessions,
    apiKeys,
    principals,
    users,
    bundles,
    tpp,
    applications,
    passwords,
    activity,
    sessionActivity,
    cache,
    events,
    async ready() {
      try {
        await store.ping();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await activity.close().catch(() => undefined);
      await sessionActivity.close().catch(() => undefined);
      keys.close();
      cache.close();
      policy.close();
      tpp.close();
      await store.close();
    },
  };
}
