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
  #lastReload = 0;
  readonly #unsubscribe: () => void;

  constructor(store: Store, clock: Clock, opts: KeyServiceOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#opts = opts;
    this.#unsubscribe = store.onChange((event) => {
      if (event.kind === 'keys' || event.kind === 'all') this.#ring = null;
    });
  }

  /** Makes sure a signing key exists and is not older than the rotation interval. */
  async ensureSigningKey(): Promise<void> {
    const ring = await this.ring();
    const created = ring.signingKeyCreatedAt;
    if (created === null || this.#clock.now() - created >= this.#opts.rotationIntervalMs) await this.rotate();
  }

  /** Starts signing with a fresh key; the previous one keeps verifying. Returns the new kid. */
  async rotate(): Promise<string> {
    const now = this.#clock.now();
    const key = await generateSigningKey(now);
    await this.#store.transaction(async (tx) => {
      for (const existing of await tx.listSigningKeys()) {
        if (existing.retiredAt === null) await tx.retireSigningKey(existing.kid, now);
        else if (existing.retiredAt + this.#opts.maxTokenTtlMs <= now) await tx.deleteSigningKey(existing.kid);
      }
      await tx.insertSigningKey(key);
    });
    this.#ring = null;
    return key.kid;
  }

  async ring(): Promise<KeyRing> {
    if (this.#ring) return this.#ring;
    this.#loading ??= (async () => {
      try {
        const ring = await KeyRing.load(
          await this.#store.listSigningKeys(),
          this.#clock.now(),
          this.#opts.maxTokenTtlMs,
          this.#opts.issuer,
        );
        this.#ring = ring;
        this.#lastReload = this.#clock.now();
        return ring;
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }

  /**
   * The ring to verify `token` with. If the token names a key this node has not loaded (made by
   * another node since), reload once — at most once a second, so garbage cannot force reloads.
   */
  async ringFor(token: string): Promise<KeyRing> {
    const ring = await this.ring();
    const kid = peekKid(token);
    if (kid && !ring.hasKid(kid) && this.#clock.now() - this.#lastReload > 1000) {
      this.#ring = null;
      return this.ring();
    }
    return ring;
  }

  close(): void {
    this.#unsubscribe();
  }
}
