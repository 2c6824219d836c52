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

export class PasswordHasher {
  readonly #params: PasswordParams;
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];
  #dummy: Promise<string> | null = null;

  constructor(params: PasswordParams = OWASP_ARGON2ID, concurrency = 2) {
    this.#params = params;
    this.#limit = Math.max(1, concurrency);
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

  /** Whether a stored hash was made with weaker parameters than the current ones. */
  needsRehash(phc: string): boolean {
    const m = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
    if (!m) return true;
    return Number(m[1]) < this.#params.memoryKiB || Number(m[2]) < this.#params.iterations;
  }

  async #slot<T>(work: () => Promise<T>): Promise<T> {
    while (this.#active >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active++;
    try {
      return await work();
    } finally {
      this.#active--;
      this.#waiting.shift()?.();
    }
  }
}

const PHC = /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

export function isArgon2idPhc(value: string): boolean {
  return PHC.test(value);
}
