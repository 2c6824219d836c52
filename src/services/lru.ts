// A map bounded in size that forgets entries not used for the longest time first. The caches of
// the hot paths are built on it so that memory stays bounded however many principals and keys
// exist.
//
// Two generations instead of a strict LRU list: new and recently used entries live in `young`;
// when it is full it becomes `old` and the previous `old` generation is dropped. A hit in `old`
// moves the entry back to `young`. A hit in `young` costs one map look-up and no bookkeeping,
// which matters on a path that runs for every request; what is dropped is always an entry unused
// for at least one generation. At most `max` entries are held.

export class Lru<K, V> {
  readonly #half: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 2) throw new RangeError('an Lru needs room for at least two entries');
    this.#half = Math.floor(max / 2);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      this.#old.delete(key);
      this.#add(key, old);
    }
    return old;
  }

  set(key: K, value: V): void {
    this.#old.delete(key);
    if (this.#young.has(key)) this.#young.set(key, value);
    else this.#add(key, value);
  }

  #add(key: K, value: V): void {
    if (this.#young.size >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }

  delete(key: K): boolean {
    const young = this.#young.delete(key);
    return this.#old.delete(key) || young;
  }

  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
  }
}
