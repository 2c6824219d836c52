// Last-use times of API keys, collected in memory and written in batches: a busy key costs no
// write per request. Readers merge the pending times so they never see stale values here.
//
// A batch is written in small chunks, each its own short transaction, and the event loop is given
// back between chunks: on SQLite every write runs on the event loop, and thousands of updates at
// random places of a large file in one transaction held every request up for hundreds of ms. The
// chunk size adapts so that one chunk takes about CHUNK_TARGET_MS.

import { performance } from 'node:perf_hooks';
import type { Store } from '../store/store.ts';

const CHUNK_MIN = 16;
const CHUNK_MAX = 2048;
const CHUNK_TARGET_MS = 2;

export class ActivityRecorder {
  readonly #store: Store;
  #pending = new Map<string, number>();
  /** The batch being written; still merged by `pending()` until it is in the store. */
  #writing = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | null = null;
  #chunk = 128;

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
    const waiting = this.#pending.get(keyId);
    const writing = this.#writing.get(keyId);
    if (writing === undefined) return waiting;
    return waiting === undefined || waiting < writing ? writing : waiting;
  }

  async flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#writing = batch;
    this.#flushing = this.#write(batch);
    try {
      await this.#flushing;
    } finally {
      this.#flushing = null;
      this.#writing = new Map();
    }
  }

  async #write(batch: Map<string, number>): Promise<void> {
    const entries = [...batch];
    let done = 0;
    try {
      while (done < entries.length) {
        if (done > 0) await new Promise<void>((resolve) => setImmediate(resolve)); // let requests in
        const chunk = new Map(entries.slice(done, done + this.#chunk));
        const started = performance.now();
        await this.#store.touchApiKeys(chunk);
        done += chunk.size;
        const took = performance.now() - started;
        if (took < CHUNK_TARGET_MS / 2) this.#chunk = Math.min(CHUNK_MAX, this.#chunk * 2);
        else if (took > CHUNK_TARGET_MS * 2) this.#chunk = Math.max(CHUNK_MIN, Math.floor(this.#chunk / 2));
      }
    } catch (error) {
      for (const [id, at] of entries.slice(done)) this.record(id, at); // keep them for the next attempt
      throw error;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush(); // may be one that was already under way
    if (this.#pending.size > 0) await this.flush();
  }
}
