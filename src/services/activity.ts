// Activity written in batches instead of once per request: the last-use times of API keys and
// the refresh counters of sessions. A busy key or session costs no write per request, and a
// refresh commits only the token rotation itself. Readers merge what is still pending, so this
// node never shows stale values; other nodes see them once written (every `intervalMs`).
//
// A batch is written in small chunks, each its own short transaction, and the event loop is given
// back between chunks: on SQLite every write runs on the event loop, and thousands of updates at
// random places of a large file in one transaction held every request up for hundreds of ms. The
// chunk size adapts so that one chunk takes about CHUNK_TARGET_MS.

import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/time.ts';
import type { Store } from '../store/store.ts';

const CHUNK_MIN = 16;
const CHUNK_MAX = 2048;
const CHUNK_TARGET_MS = 2;

export interface BatchSpec<V> {
  /** Writes one chunk (one transaction); it either all lands or none of it. */
  write(chunk: ReadonlyMap<string, V>): Promise<void>;
  /** Two values recorded for the same id, the older first, as one. */
  merge(older: V, newer: V): V;
  /** Keeps an entry back from this flush: it stays pending (and seen by readers) for a later one. */
  holdBack?: (id: string) => boolean;
  /** Called once per flush before anything is chosen. */
  beforeFlush?: () => void;
  /** Called with each chunk once it is written. */
  written?(chunk: ReadonlyMap<string, V>): void;
}

/** Values per id, collected in memory and written in chunks on a timer, on flush() and on close(). */
export class BatchedWrites<V> {
  readonly #spec: BatchSpec<V>;
  #pending = new Map<string, V>();
  /** The batch being written; still merged by `pending()` until it is in the store. */
  #writing = new Map<string, V>();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> | null = null;
  #chunk = 128;

  constructor(spec: BatchSpec<V>, intervalMs: number) {
    this.#spec = spec;
    this.#timer = setInterval(() => void this.flush().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  record(id: string, value: V): void {
    const current = this.#pending.get(id);
    this.#pending.set(id, current === undefined ? value : this.#spec.merge(current, value));
  }

  /** What is recorded for `id` and not yet in the store. */
  pending(id: string): V | undefined {
    const waiting = this.#pending.get(id);
    const writing = this.#writing.get(id);
    if (writing === undefined) return waiting;
    return waiting === undefined ? writing : this.#spec.merge(writing, waiting);
  }

  /** Writes what is pending; with `all`, entries held back too (on close). */
  async flush(options: { all?: boolean } = {}): Promise<void> {
    if (this.#flushing) return this.#flushing;
    if (this.#pending.size === 0) return;
    let batch = this.#pending;
    this.#pending = new Map();
    const { holdBack, beforeFlush } = this.#spec;
    if (holdBack && !options.all) {
      beforeFlush?.();
      const due = new Map<string, V>();
      for (const [id, value] of batch) {
        if (holdBack(id)) this.#pending.set(id, value);
        else due.set(id, value);
      }
      batch = due;
      if (batch.size === 0) return;
    }
    this.#writing = batch;
    this.#flushing = this.#write(batch);
    try {
      await this.#flushing;
    } finally {
      this.#flushing = null;
      this.#writing = new Map();
    }
  }

  async #write(batch: Map<string, V>): Promise<void> {
    const entries = [...batch];
    let done = 0;
    try {
      while (done < entries.length) {
        if (done > 0) await new Promise<void>((resolve) => setImmediate(resolve)); // let requests in
        const chunk = new Map(entries.slice(done, done + this.#chunk));
        const started = performance.now();
        await this.#spec.write(chunk);
        done += chunk.size;
        this.#spec.written?.(chunk);
        const took = performance.now() - started;
        if (took < CHUNK_TARGET_MS / 2) this.#chunk = Math.min(CHUNK_MAX, this.#chunk * 2);
        else if (took > CHUNK_TARGET_MS * 2) this.#chunk = Math.max(CHUNK_MIN, Math.floor(this.#chunk / 2));
      }
    } catch (error) {
      // keep what was not written for the next attempt, older than anything recorded since
      for (const [id, value] of entries.slice(done)) {
        const newer = this.#pending.get(id);
        this.#pending.set(id, newer === undefined ? value : this.#spec.merge(value, newer));
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush({ all: true }); // may be one that was already under way
    if (this.#pending.size > 0) await this.flush({ all: true });
  }
}

/**
 * Last-use times of API keys. A key's stored time moves at most once per `resolutionMs`: a key
 * in constant use is written once a minute (by default), not at every flush — at a million keys
 * these random-place updates were the server's largest cost. The first use after a quiet spell
 * is written at the next flush, and this node's readers always see the exact time.
 */
export class ApiKeyActivity {
  readonly #clock: Clock;
  readonly #resolutionMs: number;
  /** Keys written less than resolutionMs ago, with when. */
  readonly #recent = new Map<string, number>();
  readonly #batch: BatchedWrites<number>;

  constructor(store: Store, clock: Clock, intervalMs: number, resolutionMs: number) {
    this.#clock = clock;
    this.#resolutionMs = resolutionMs;
    this.#batch = new BatchedWrites<number>(
      {
        write: (chunk) => store.touchApiKeys(chunk),
        merge: (older, newer) => Math.max(older, newer),
        beforeFlush: () => {
          const now = this.#clock.now();
          for (const [id, at] of this.#recent) if (now - at >= this.#resolutionMs) this.#recent.delete(id);
        },
        holdBack: (id) => this.#recent.has(id),
        written: (chunk) => {
          if (this.#resolutionMs <= 0) return;
          const now = this.#clock.now();
          for (const id of chunk.keys()) this.#recent.set(id, now);
        },
      },
      intervalMs,
    );
  }

  record(keyId: string, at: number): void {
    this.#batch.record(keyId, at);
  }

  pending(keyId: string): number | undefined {
    return this.#batch.pending(keyId);
  }

  flush(options?: { all?: boolean }): Promise<void> {
    return this.#batch.flush(options);
  }

  close(): Promise<void> {
    return this.#batch.close();
  }
}

/** Refreshes of a session not yet counted in the store: how many, and the latest. */
export interface SessionRefreshes {
  readonly count: number;
  readonly at: number;
}

/** The refresh counters of sessions (`refresh_count`, `last_refreshed_at`), written in batches. */
export class SessionActivity {
  readonly #batch: BatchedWrites<SessionRefreshes>;

  constructor(store: Store, intervalMs: number) {
    this.#batch = new BatchedWrites<SessionRefreshes>(
      {
        write: (chunk) => store.recordSessionRefreshes(chunk),
        merge: (older, newer) => ({ count: older.count + newer.count, at: Math.max(older.at, newer.at) }),
      },
      intervalMs,
    );
  }

  refreshed(sessionId: string, at: number): void {
    this.#batch.record(sessionId, { count: 1, at });
  }

  pending(sessionId: string): SessionRefreshes | undefined {
    return this.#batch.pending(sessionId);
  }

  flush(): Promise<void> {
    return this.#batch.flush();
  }

  close(): Promise<void> {
    return this.#batch.close();
  }
}
