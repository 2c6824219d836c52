// Opens the store a database URL names: `sqlite:<path>` (or `sqlite::memory:`) or `postgres://…`.

import { ValidationError } from '../core/errors.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** Interval for noticing writes by other processes/nodes, ms. */
  readonly pollIntervalMs?: number;
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ValidationError('sqlite: URL needs a path, e.g. sqlite:./data/gatehouse.db');
    return openSqliteStore({ path, pollIntervalMs: options.pollIntervalMs });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new ValidationError('the PostgreSQL backend is not available in this version');
  }
  throw new ValidationError(`unsupported database URL "${redactUrl(url)}" (use sqlite:<path> or postgres://…)`);
}

/** A database URL with any password replaced, safe to log. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
