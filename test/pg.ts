// PostgreSQL for tests: is it there, a fresh schema per test, and the URL that points into it.
//
// The server is GATEHOUSE_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test). When it
// cannot be reached, tests skip with the reason printed; under CI=true they fail instead, so a
// CI job without PostgreSQL cannot pass by skipping.
//
// Run as a script (`node test/pg.ts faces`), it runs the face tests again with every harness on
// PostgreSQL (GATEHOUSE_TEST_BACKEND=postgres), or explains why it skips them.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

export const PG_URL = process.env.GATEHOUSE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const IN_CI = process.env.CI === 'true';

let availability: Promise<string | null> | null = null;

/** Null when PostgreSQL answers; otherwise why not. Checked once per process. */
export function pgUnavailableReason(): Promise<string | null> {
  availability ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return null;
    } catch (error) {
      return `PostgreSQL is not reachable at ${redact(PG_URL)} (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return availability;
}

function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/** The message a test fails with under CI when PostgreSQL is missing. */
export function requiredInCi(reason: string): string {
  return `${reason}; CI=true requires PostgreSQL for these tests`;
}

/**
 * For a test that needs PostgreSQL: true when it can run. Otherwise it skips the test with the
 * reason (or, under CI=true, throws so the test fails).
 */
export async function needPostgres(t: TestContext): Promise<boolean> {
  const reason = await pgUnavailableReason();
  if (reason === null) return true;
  if (IN_CI) throw new Error(requiredInCi(reason));
  t.skip(`skipped: ${reason}`);
  return false;
}

/** Runs one statement on its own connection to the test database. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestSchema {
  readonly schema: string;
  /** A Gatehouse database URL whose tables live in this schema. */
  readonly url: string;
  /** The same URL with extra query parameters (e.g. application_name). */
  urlWith(params: Record<string, string>): string;
  drop(): Promise<void>;
}

/** The database URL for `schema`, with extra query parameters. */
export function urlForSchema(schema: string, params: Record<string, string> = {}): string {
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

/** A new, empty schema; drop() removes it with everything in it. */
export async function createSchema(prefix = 'gh_test'): Promise<TestSchema> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  return {
    schema,
    url: urlForSchema(schema),
    urlWith: (params) => urlForSchema(schema, params),
    drop: async () => {
      await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** `node test/pg.ts faces`: the face tests once more, every harness on PostgreSQL. */
function runFacesOnPostgres(): number {
  return spawnSync(
    process.execPath,
    ['--test', '--test-concurrency=4', 'test/faces/**/*.test.ts'],
    { stdio: 'inherit', env: { ...process.env, GATEHOUSE_TEST_BACKEND: 'postgres' } },
  ).status ?? 1;
}

if (import.meta.main) {
  const what = process.argv[2];
  if (what !== 'faces') {
    process.stderr.write('usage: node test/pg.ts faces\n');
    process.exit(2);
  }
  const reason = await pgUnavailableReason();
  if (reason !== null) {
    if (IN_CI) {
      process.stderr.write(`face tests on PostgreSQL: ${requiredInCi(reason)}\n`);
      process.exit(1);
    }
    process.stdout.write(`# SKIP face tests on PostgreSQL: ${reason}\n`);
    process.exit(0);
  }
  process.exit(runFacesOnPostgres());
}
