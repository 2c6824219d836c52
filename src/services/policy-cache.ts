// The policy (roles and groups) held in memory and dropped whenever the store reports a change,
// here or on another node. Effective scopes are still computed per request from it.

import { buildPolicy } from '../core/policy.ts';
import type { Policy } from '../core/model.ts';
import type { Store } from '../store/store.ts';

export class PolicyCache {
  readonly #store: Store;
  #policy: Policy | null = null;
  #loading: Promise<Policy> | null = null;
  #generation = 0;
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

  async get(): Promise<Policy> {
    if (this.#policy) return this.#policy;
    if (this.#loading) return this.#loading;
    const generation = this.#generation;
    const loading = (async () => {
      const [roles, groups] = await Promise.all([this.#store.listRoles(), this.#store.listGroups()]);
      const policy = buildPolicy(roles, groups);
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

  close(): void {
    this.#unsubscribe();
  }
}
