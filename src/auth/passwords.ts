// Password hashing: argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1), PHC strings.
// Hashing runs on the libuv pool (off the event loop) behind a small semaphore so a burst of
// logins never starves the other requests of threads.

import { hash, verify } from '@node-rs/argon2';

export interface PasswordParams {
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
}

export const OWASP_ARGON2ID: PasswordParams = { memoryKiB: 19456, iterations: 2, parallelism: 1 };

const ARGON2ID = 2; // @node-rs/argon2 Algorithm.Argon2id (a const enum, not importable under type stripping)

/** At most `limit` tasks at once; the rest wait their turn in arrival order. */
export class Semaphore {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve)); // the slot is handed over
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

export class PasswordHasher {
  readonly #params: PasswordParams;
  readonly #slots: Semaphore;
  #dummy: Promise<string> | null = null;

  constructor(params: PasswordParams = OWASP_ARGON2ID, concurrency = 2) {
    this.#params = params;
    this.#slots = new Semaphore(concurrency);
  }

  /** Hashes or verifications running now (never more than the concurrency). */
  get running(): number {
    return this.#slots.active;
  }

  /** Hashes or verifications waiting for a slot. */
  get queued(): number {
    return this.#slots.waiting;
  }

  async hash(password: string): Promise<string> {
    return this.#slot(() =>
      hash(password, {
        algorithm: ARGON2ID,
        memoryCost: this.#params.memoryKiB,
        timeCost: this.#params.iterations,
        parallelism: this.#params.parallelism,
      }),
    );
  }

  /** True when `password` matches the PHC string; false for a mismatch or an unreadable hash. */
  async verify(phc: string, password: string): Promise<boolean> {
    if (!isArgon2idPhc(phc)) return false;
    return this.#slot(async () => {
      try {
        return await verify(phc, password);
      } catch {
        return false;
      }
    });
  }

  /** Spends the same time as a real verification, so unknown users cannot be told apart by timing. */
  async verifyDummy(password: string): Promise<false> {
    this.#dummy ??= this.hash('gatehouse-dummy-password');
    await this.verify(await this.#dummy, password);
    return false;
  }

  /** Whether a stored hash is not argon2id or was made with weaker parameters than the current ones. */
  needsRehash(phc: string): boolean {
    if (!isArgon2idPhc(phc)) return true;
    const m = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
    if (!m) return true;
    return Number(m[1]) < this.#params.memoryKiB || Number(m[2]) < this.#params.iterations;
  }

  #slot<T>(work: () => Promise<T>): Promise<T> {
    return this.#slots.run(work);
  }
}

const PHC = /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

export function isArgon2idPhc(value: string): boolean {
  return PHC.test(value);
}
