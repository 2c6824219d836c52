// Connection settings from a `postgres://` URL. Standard parameters (sslmode, application_name,
// options, …) pass through to the driver; Gatehouse adds a few of its own:
//   schema=<name>         tables live in this schema (created by `migrate` if missing)
//   pool_max=<n>          connections this node keeps at most (default 10)
//   connect_timeout=<s>   give up connecting after this many seconds (default 5)
//   query_timeout=<s>     give up waiting for a statement after this many seconds (default 15)

import type pg from 'pg';
import { ValidationError } from '../../core/errors.ts';

export interface PostgresConnection {
  /** Settings for each connection (the pool's and the LISTEN one). */
  readonly client: pg.ClientConfig;
  readonly pool: { readonly max: number; readonly idleTimeoutMillis: number };
  /** The schema named by `schema=`, if any. */
  readonly schema: string | null;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

function positiveNumber(url: URL, name: string, fallback: number, max: number): number {
  const raw = url.searchParams.get(name);
  url.searchParams.delete(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new ValidationError(`database URL: ${name} must be a number from 1 to ${max} (got "${raw}")`);
  }
  return value;
}

export function clientConfigFromUrl(url: string): PostgresConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError('database URL is not a valid postgres:// URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ValidationError('database URL must start with postgres:// or postgresql://');
  }
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema !== null && !IDENTIFIER.test(schema)) {
    throw new ValidationError(`database URL: schema "${schema}" must be a plain identifier (letters, digits, _ and $)`);
  }
  if (schema) {
    const options = parsed.searchParams.get('options');
    parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${schema}`);
  }
  const max = Math.floor(positiveNumber(parsed, 'pool_max', 10, 1000));
  const connectTimeout = positiveNumber(parsed, 'connect_timeout', 5, 3600);
  const queryTimeout = positiveNumber(parsed, 'query_timeout', 15, 86400);
  return {
    client: {
      connectionString: parsed.toString(),
      keepAlive: true,
      connectionTimeoutMillis: Math.round(connectTimeout * 1000),
      query_timeout: Math.round(queryTimeout * 1000),
    },
    pool: { max, idleTimeoutMillis: 10_000 },
    schema: schema || null,
  };
}
