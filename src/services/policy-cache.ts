// The policy (roles and groups) held in memory and dropped whenever the store reports a change,
// here or on another node. Resolutions (effective roles, scopes and grants) are remembered per
// policy for each distinct set of roles and groups, so principals that hold the same roles share
// one resolution and it is computed once per policy, not once per request.

import { buildPolicy, resolve, type PrincipalFacts, type Resolution } from '../core/policy.ts';
import type { Policy } from '../core/model.ts';
import type { Store } from '../store/store.ts';
import { Lru } from './lru.ts';

/** Distinct role and group combinations remembered per policy. */
const RESOLUTIONS_KEPT = 4096;

export class PolicyCache {
  readonly #store: Store;
  #policy: Policy | null = null;
  #loading: Promise<Policy> | null = null;
  #generation = 0;
  /** Resolutions under `#resolvedFor`, by role and group set. */
  #resolutions = new Lru<string, Resolution>(RESOLUTIONS_KEPT);
  #resolvedFor: Policy | null = null;
  readonly #unsubscribe: () => void;

  constructor(store: Store) {
    this.#store = store;
    this.#unsubscribe = store.onChange((event) => {
      if (event.kind === 'policy' || event.kind === 'all') this.invalidate();
    });
  }

  invalidate(): void {
    this.#generation++;
    this.#policy = null;
    this.#loading = null;
  }

  /** The policy in force if it is loaded, else null (then `get()` loads it). */
  current(): Policy | null {
    return this.#policy;
  }

  async get(): Promise<Policy> {
    if (this.#policy) return this.#policy;
    if (this.#loading) return this.#loading;
    const generation = this.#generation;
    const loading = (async () => {
      const [roles, groups] = await Promise.all([this.#store.listRoles(), this.#store.listGroups()]);
      const policy = buildPolicy(roles, groups);
      // kept only while changes made elsewhere are heard (see Store.hearsChanges)
      if (generation === this.#generation && this.#store.hearsChanges()) this.#policy = policy;
      return policy;
    })();
    this.#loading = loading;
    try {
      return await loading;
    } finally {
      if (this.#loading === loading) this.#loading = null;
    }
  }

  /**
   * The roles, scopes and grants `facts` confer under `policy` (see core `resolve`). The result
   * is shared and frozen: callers must not change it.
   */
  resolve(policy: Policy, facts: PrincipalFacts): Resolution {
    if (this.#resolvedFor !== policy) {
      this.#resolvedFor = policy;
      this.#resolutions = new Lru(RESOLUTIONS_KEPT);
    }
    const key = `${facts.disabled ? 'D' : 'E'}${facts.roles.join('\u0000')}\u0001${facts.groups.join('\u0000')}`;
    let resolution = this.#resolutions.get(key);
    if (!resolution) {
      const r = resolve(policy, facts);
      resolution = Object.freeze({
        roles: Object.freeze(r.roles),
        scopes: Object.freeze(r.scopes),
        grants: Object.freeze(r.grants.map((g) => Object.freeze(g))),
      });
      this.#resolutions.set(key, resolution);
    }
    return resolution;
  }

  close(): void {
    this.#unsubscribe();
  }
}
