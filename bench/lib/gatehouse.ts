// Gatehouse as a benchmark target: the real server (`gatehouse serve`) over a fresh database
// made by `gatehouse apply`, on SQLite or PostgreSQL. A backend is one entry in BACKENDS.

import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { pidsNamed } from './machine.ts';
import { startServer, type ServerProcess } from './proc.ts';
import { GATEHOUSE_BIN, removeDir, ROOT, tempDir } from './util.ts';

/** The users every Gatehouse run starts with. Clear-text passwords are hashed (argon2id) by apply. */
export const BENCH_BUNDLE = `
roles:
  - { name: pki-admin, scopes: ["admin:grantrights,viewlogs", "certificate:manage,revoke"] }
users:
  - { username: bob, password: bob_password, email: bob@example.org, roles: [admin, expert] }
  - { username: alice, password: alice_password, roles: [user] }
  - { username: refresher, password: refresher_password, roles: [user] }
  - { username: keymaker, password: keymaker_password, roles: [user] }
  - { username: tppadmin, password: tppadmin_password, roles: [pki-admin] }
applications:
  - { clientId: vcert-cli, scopes: "admin:grantrights,viewlogs;certificate:manage,revoke" }
`;

export interface GatehouseBackend {
  readonly id: string;
  readonly label: string;
  /** Null when the backend can be benchmarked here, else why not (printed). */
  check(): Promise<string | null>;
  /** A fresh, empty database; returns the CLI flags that select it. */
  prepare(dir: string): Promise<string[]>;
  /** Writes `tokens.length` sessions of `username`, each with one unused refresh token. */
  seedRefreshPool(dir: string, username: string, tokens: readonly string[]): Promise<void>;
  /** Drops what prepare made. */
  dispose(dir: string): Promise<void>;
  /** Processes of the database server: part of the system under test, not noise. */
  databasePids?(): readonly number[];
}

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');
const DAY = 86400_000;

/**
 * The rows a password login writes (services/sessions.ts): a session, its first refresh token
 * (sha256 hex of the token string) and the login identity. Written before the server starts.
 */
function poolRows(principalId: string, tokens: readonly string[], now: number) {
  return tokens.map((token) => ({
    session: { id: randomUUID(), principalId, createdAt: now, expiresAt: now + 365 * DAY },
    refresh: { tokenHash: sha256Hex(token), expiresAt: now + 7 * DAY },
  }));
}

export const SQLITE: GatehouseBackend = {
  id: 'sqlite',
  label: 'SQLite',
  check: async () => null,
  prepare: async (dir) => ['--data-dir', dir],
  async seedRefreshPool(dir, username, tokens) {
    const db = new DatabaseSync(join(dir, 'gatehouse.db'));
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      const row = db.prepare('SELECT id FROM principals WHERE username = ?').get(username) as { id: string } | undefined;
      if (!row) throw new Error(`no principal ${username} to seed refresh tokens for`);
      const now = Date.now();
      const session = db.prepare(
        'INSERT INTO sessions (id, principal_id, created_at, expires_at, revoked_at, last_refreshed_at, refresh_count) VALUES (?, ?, ?, ?, NULL, NULL, 0)',
      );
      const refresh = db.prepare('INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES (?, ?, ?, NULL)');
      db.exec('BEGIN');
      db.prepare(
        `INSERT INTO identities (provider, external_id, principal_id, latest_login) VALUES ('local', ?, ?, ?)
         ON CONFLICT (provider, external_id) DO NOTHING`,
      ).run(username, row.id, now);
      for (const r of poolRows(row.id, tokens, now)) {
        session.run(r.session.id, r.session.principalId, r.session.createdAt, r.session.expiresAt);
        refresh.run(r.refresh.tokenHash, r.session.id, r.refresh.expiresAt);
      }
      db.exec('COMMIT');
    } finally {
      db.close();
    }
  },
  dispose: async () => undefined,
};

/** Where PostgreSQL runs; the benchmark uses a database of its own, dropped and made anew per run. */
const PG_ADMIN_URL = process.env.GATEHOUSE_BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_DATABASE = process.env.GATEHOUSE_BENCH_PG_DATABASE ?? 'gatehouse_bench';
const pgUrl = () => PG_ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${PG_DATABASE}$1`);

async function withPg<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function recreatePgDatabase(): Promise<void> {
  await withPg(PG_ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${PG_DATABASE} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${PG_DATABASE}`);
  });
}

export const POSTGRES: GatehouseBackend = {
  id: 'postgres',
  label: 'PostgreSQL',
  async check() {
    try {
      await withPg(PG_ADMIN_URL, async (c) => c.query('SELECT 1'));
    } catch (error) {
      return `PostgreSQL is not reachable at ${PG_ADMIN_URL.replace(/:[^:@/]*@/, ':***@')}: ${(error as Error).message}`;
    }
    await recreatePgDatabase();
    const { openStore } = await import('../../src/store/open.ts');
    try {
      const store = await openStore(pgUrl(), { pollIntervalMs: 0 });
      await store.close();
    } catch (error) {
      return `openStore refuses postgres URLs: ${(error as Error).message}`;
    }
    return null;
  },
  async prepare(dir) {
    await recreatePgDatabase();
    return ['--data-dir', dir, '--database-url', pgUrl()];
  },
  async seedRefreshPool(_dir, username, tokens) {
    await withPg(pgUrl(), async (c) => {
      const found = await c.query<{ id: string }>('SELECT id FROM principals WHERE username = $1', [username]);
      const id = found.rows[0]?.id;
      if (!id) throw new Error(`no principal ${username} to seed refresh tokens for`);
      const now = Date.now();
      const rows = poolRows(id, tokens, now);
      await c.query('BEGIN');
      await c.query(
        `INSERT INTO identities (provider, external_id, principal_id, latest_login) VALUES ('local', $1, $2, $3)
         ON CONFLICT (provider, external_id) DO NOTHING`,
        [username, id, now],
      );
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        await c.query(
          `INSERT INTO sessions (id, principal_id, created_at, expires_at, revoked_at, last_refreshed_at, refresh_count)
           SELECT a, b, c, d, NULL, NULL, 0 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS t(a, b, c, d)`,
          [chunk.map((r) => r.session.id), chunk.map(() => id), chunk.map(() => now), chunk.map((r) => r.session.expiresAt)],
        );
        await c.query(
          `INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at)
           SELECT a, b, c, NULL FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(a, b, c)`,
          [chunk.map((r) => r.refresh.tokenHash), chunk.map((r) => r.session.id), chunk.map((r) => r.refresh.expiresAt)],
        );
      }
      await c.query('COMMIT');
    });
  },
  databasePids: () => pidsNamed('postgres', ` ${PG_DATABASE} `),
  async dispose() {
    await withPg(PG_ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${PG_DATABASE} WITH (FORCE)`)).catch(() => undefined);
  },
};

export const BACKENDS: readonly GatehouseBackend[] = [SQLITE, POSTGRES];

export interface GatehouseRun extends ServerProcess {
  readonly dir: string;
  /** Why a fixture could not be made (e.g. the refresh pool on a backend), by fixture name. */
  readonly missing: Record<string, string>;
}

export interface GatehouseStartOptions {
  /** Refresh tokens to pre-generate (each request of the refresh scenario uses a fresh one). */
  readonly refreshPool: number;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
  /** Face-specific fixtures made after start (see scenarios.ts). */
  readonly fixtures?: readonly FixtureMaker[];
}

export interface FixtureMaker {
  readonly name: string;
  make(url: string, fixtures: Record<string, string>): Promise<string>;
}

/** Single-use refresh tokens (32 random bytes, base64url, like Gatehouse's), one per line. */
export function writeRefreshPool(dir: string, size: number): { file: string; tokens: string[] } {
  const file = join(dir, 'refresh-pool.txt');
  const tokens = Array.from({ length: size }, () => randomBytes(32).toString('base64url'));
  writeFileSync(file, `${tokens.join('\n')}\n`);
  return { file, tokens };
}

/** Runs the gatehouse CLI to completion (not pinned: set-up is not measured here). */
export function gatehouseCli(args: readonly string[], timeoutMs = 600_000): { ms: number; stdout: string } {
  const started = performance.now();
  const out = spawnSync(process.execPath, [GATEHOUSE_BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'warn' },
  });
  const ms = performance.now() - started;
  if (out.status !== 0) {
    const why = out.error ? out.error.message : `exit ${out.status}`;
    throw new Error(`gatehouse ${args[0]} failed (${why}): ${(out.stderr || out.stdout).slice(-2000)}`);
  }
  return { ms, stdout: out.stdout };
}

export async function http(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string; json: () => Record<string, unknown> }> {
  const response = await fetch(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function login(url: string, username: string, password: string): Promise<{ access: string; refresh: string }> {
  const r = await http(`${url}/api/auth/provider/local/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  if (r.status !== 200) throw new Error(`login of ${username} failed: ${r.status} ${r.text.slice(0, 300)}`);
  const body = r.json();
  return { access: String(body.access_token), refresh: String(body.refresh_token) };
}

/** Starts Gatehouse on `backend` with the bench bundle applied and the fixtures every scenario needs. */
export async function startGatehouse(backend: GatehouseBackend, options: GatehouseStartOptions): Promise<GatehouseRun> {
  const dir = tempDir(`gatehouse-${backend.id}`);
  try {
    const flags = await backend.prepare(dir);
    const bundle = join(dir, 'bundle.yaml');
    writeFileSync(bundle, BENCH_BUNDLE);
    gatehouseCli(['apply', bundle, ...flags]);

    const missing: Record<string, string> = {};
    const { file: pool, tokens } = writeRefreshPool(dir, options.refreshPool);
    try {
      await backend.seedRefreshPool(dir, 'refresher', tokens);
    } catch (error) {
      missing.refreshPool = `could not write the refresh token pool: ${(error as Error).message}`;
    }

    const server = await startServer({
      argv: [process.execPath, ...(options.nodeFlags ?? []), GATEHOUSE_BIN, 'serve', ...flags, '--port', '0', '--log-level', 'warn'],
      cwd: ROOT,
      ready: 'socket',
      timeoutMs: 120_000,
    });
    try {
      const bob = await login(server.url, 'bob', 'bob_password');
      const keymaker = await login(server.url, 'keymaker', 'keymaker_password');
      const created = await http(`${server.url}/api/auth/apikey`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bob.access}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'bench' }),
      });
      if (created.status !== 200) throw new Error(`API key creation failed: ${created.status} ${created.text.slice(0, 300)}`);
      const apiKey = String(created.json().secret);
      const scopes = await http(`${server.url}/api/auth/scopes`, { headers: { authorization: `Apikey ${apiKey}` } });
      if (scopes.status !== 200) throw new Error(`GET /api/auth/scopes with the key failed: ${scopes.status}`);
      const fixtures: Record<string, string> = {
        ...server.fixtures,
        jwt: bob.access,
        apiKey,
        keymakerJwt: keymaker.access,
        scopesBody: scopes.text,
        refreshPool: pool,
        refreshPoolSize: String(tokens.length),
      };
      for (const maker of options.fixtures ?? []) {
        try {
          fixtures[maker.name] = await maker.make(server.url, fixtures);
        } catch (error) {
          missing[maker.name] = (error as Error).message;
        }
      }
      return {
        ...server,
        fixtures,
        dir,
        missing,
        async stop() {
          const code = await server.stop();
          await backend.dispose(dir);
          removeDir(dir);
          return code;
        },
      };
    } catch (error) {
      await server.stop();
      throw error;
    }
  } catch (error) {
    await backend.dispose(dir).catch(() => undefined);
    removeDir(dir);
    throw error;
  }
}
