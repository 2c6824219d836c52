// Signing keys: created on first start, persisted in the store (so every node signs and verifies
// with the same keys), rotated on a schedule. Retired keys verify until their tokens expire.

import { generateSigningKey, KeyRing, peekKid } from '../auth/jwt.ts';
import type { Clock } from '../core/time.ts';
import type { Store } from '../store/store.ts';

export interface KeyServiceOptions {
  readonly issuer: string;
  /** The longest lifetime of any token these keys sign, ms. */
  readonly maxTokenTtlMs: number;
  readonly rotationIntervalMs: number;
}

export class KeyService {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #opts: KeyServiceOptions;
  #ring: KeyRing | null = null;
  #loading: Promise<KeyRing> | null = null;
  /** Bumped by every invalidation, so a load that started before one is not kept. */
  #generation = 0;
  #lastReload = 0;
  readonly #unsubscribe: () => void;

  constructor(store: Store, clock: Clock, opts: KeyServiceOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#opts = opts;
    this.#unsubscribe = store.onChange((event) => {
      if (event.kind === 'keys' || event.kind === 'all') this.#invalidate();
    });
  }

  #invalidate(): void {
    this.#generation++;
    this.#ring = null;
    this.#loading = null;
  }

  /** Makes sure a signing key exists and is not older than the rotation interval. */
  async ensureSigningKey(): Promise<void> {
    const ring = await this.ring();
    if (this.#due(ring.signingKeyCreatedAt)) await this.#rotate(true);
  }

  #due(signingKeyCreatedAt: number | null): boolean {
    return signingKeyCreatedAt === null || this.#clock.now() - signingKeyCreatedAt >= this.#opts.rotationIntervalMs;
  }

  /** Starts signing with a fresh key; the previous one keeps verifying. Returns the new kid. */
  async rotate(): Promise<string> {
    return (await this.#rotate(false)) as string;
  }

  /**
   * Rotates inside one transaction. With `onlyIfDue`, it first looks again at the stored keys, so
   * that several nodes starting (or rotating) at once make one new key, not one each.
   */
  async #rotate(onlyIfDue: boolean): Promise<string | null> {
    const now = this.#clock.now();
    const key = await generateSigningKey(now);
    const kid = await this.#store.transaction(async (tx) => {
      const existing = await tx.listSigningKeys();
      if (onlyIfDue) {
        const signing = existing.filter((k) => k.retiredAt === null).map((k) => k.createdAt);
        if (!this.#due(signing.length ? Math.max(...signing) : null)) return null;
      }
      for (const k of existing) {
        if (k.retiredAt === null) await tx.retireSigningKey(k.kid, now);
        else if (k.retiredAt + this.#opts.maxTokenTtlMs <= now) await tx.deleteSigningKey(k.kid);
      }
      await tx.insertSigningKey(key);
      return key.kid;
    });
    this.#invalidate();
    return kid;
  }

  /**
   * The loaded ring if it is still the one in force, else null (then `ring()` loads it). The same
   * ring object is returned until the keys change or a retired key stops verifying, so a token
   * verified with it may be trusted for as long as this returns that object.
   */
  currentRing(): KeyRing | null {
    const cached = this.#ring;
    if (!cached) return null;
    const staleAt = cached.staleAt;
    return staleAt === null || this.#clock.now() < staleAt ? cached : null;
  }

  /** The keys in force; reloaded after a change, and when a retired key's verifying time is over. */
  async ring(): Promise<KeyRing> {
    const cached = this.#ring;
    if (cached) {
      if (this.currentRing() === cached) return cached;
      this.#invalidate();
    }
    if (this.#loading) return this.#loading;
    const generation = this.#generation;
    const loading = (async () => {
      const ring = await KeyRing.load(
        await this.#store.listSigningKeys(),
        this.#clock.now(),
        this.#opts.maxTokenTtlMs,
        this.#opts.issuer,
      );
      if (generation === this.#generation) {
        this.#ring = ring;
        this.#lastReload = this.#clock.now();
      }
      return ring;
    })();
    this.#loading = loading;
    try {
      return await loading;
    } finally {
      if (this.#loading === loading) this.#loading = null;
    }
  }

  /**
   * The ring to verify `token` with. If the token names a key this node has not loaded (made by
   * another node since), reload once — at most once a second, so garbage cannot force reloads.
   */
  async ringFor(token: string): Promise<KeyRing> {
    const ring = await this.ring();
    const kid = peekKid(token);
    if (kid && !ring.hasKid(kid) && this.#clock.now() - this.#lastReload > 1000) {
      this.#invalidate();
      return this.ring();
    }
    return ring;
  }

  close(): void {
    this.#unsubscribe();
  }
}
