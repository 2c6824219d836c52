// Last-use times of API keys, collected in memory and written in batches: a busy key costs no
// write per request. Readers merge the pending times so they never see stale values here.

import type { Store } from '../store/store.ts';

export class ActivityRecorder {
  readonly #store: Store;
  #pending = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | null = null;

  constructor(store: Store, intervalMs: number) {
    this.#store = store;
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  record(keyId: string, at: number): void {
    const current = this.#pending.get(keyId);
    if (current === undefined || current < at) this.#pending.set(keyId, at);
  }

  pending(keyId: string): number | undefined {
    return this.#pending.get(keyId);
  }

  async flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#flushing = this.#store.touchApiKeys(batch).catch((error: unknown) => {
      for (const [id, at] of batch) this.record(id, at); // keep them for the next attempt
      throw error;
    });
    try {
      await this.#flushing;
    } finally {
      this.#flushing = null;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
