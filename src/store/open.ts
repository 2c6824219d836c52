// Opens the store a database URL names: `sqlite:<path>` (or `sqlite::memory:`) or `postgres://…`.

import { ValidationError } from '../core/errors.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** Interval for noticing writes by other processes/nodes, ms. */
  readonly pollIntervalMs?: number;
  /** SQLite: WAL checkpoints on a worker thread every this many ms (a serving process). */
  readonly checkpointIntervalMs?: number;
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const path = sqlitePath(url);
  if (path !== null) {
    if (!path) throw new ValidationError('sqlite: URL needs a path, e.g. sqlite:./data/gatehouse.db');
    return openSqliteStore({ path, pollIntervalMs: options.pollIntervalMs, checkpointIntervalMs: options.checkpointIntervalMs });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // Loaded only here: a server on SQLite never needs the PostgreSQL driver in memory.
    const { openPostgresStore } = await import('./postgres/postgres-store.ts');
    // Other nodes' changes arrive by LISTEN/NOTIFY; a poll interval of 0 means "not needed".
    return openPostgresStore({ url, listen: options.pollIntervalMs !== 0 });
  }
  throw new ValidationError(`unsupported database URL "${redactUrl(url)}" (use sqlite:<path> or postgres://…)`);
}

/** The file (or ':memory:') a `sqlite:` URL names; null for any other URL. */
export function sqlitePath(url: string): string | null {
  return url.startsWith('sqlite:') ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : null;
}

/** A database URL with any password replaced, safe to log. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
