// Shared test fixtures: services over a fresh store, an app over them, small request helpers.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../src/config.ts';
import { ManualClock } from '../src/core/time.ts';
import { buildApp } from '../src/http/app.ts';
import { createServices, type Services } from '../src/services/index.ts';
import { openStore } from '../src/store/open.ts';
import { createSchema, pgUnavailableReason, type TestSchema } from './pg.ts';

/** Cheap argon2 parameters so tests run fast; the production default is tested on its own. */
export const FAST_ARGON2: Partial<Config> = { argon2MemoryKiB: 1024, argon2Iterations: 1 };

export interface Harness {
  readonly services: Services;
  readonly app: FastifyInstance;
  readonly clock: ManualClock;
  readonly dir: string;
  close(): Promise<void>;
}

export const BOB_BUNDLE = `
users:
  - { username: bob, password: bob_password, email: bob@example.org, roles: [admin, expert] }
  - { username: alice, password: alice_password, roles: [user] }
  - { username: carol, password: carol_password, roles: [observer] }
  - { username: nobody, password: nobody_password, roles: [] }
`;

/**
 * The backend harnesses use when no databaseUrl is given: SQLite in a temp dir, or with
 * GATEHOUSE_TEST_BACKEND=postgres a fresh PostgreSQL schema per harness, dropped on close.
 */
export const TEST_BACKEND: 'sqlite' | 'postgres' = process.env.GATEHOUSE_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

async function postgresSchemaForHarness(): Promise<TestSchema> {
  const reason = await pgUnavailableReason();
  if (reason !== null) throw new Error(`GATEHOUSE_TEST_BACKEND=postgres but ${reason}`);
  return createSchema('gh_harness');
}

export async function harness(options: { config?: Partial<Config>; bundle?: string; databaseUrl?: string } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const pgSchema = options.databaseUrl === undefined && TEST_BACKEND === 'postgres' ? await postgresSchemaForHarness() : null;
  const config = loadConfig({
    env: {},
    cwd: dir,
    flags: { dataDir: dir, logLevel: 'silent', ...FAST_ARGON2, ...(pgSchema ? { databaseUrl: pgSchema.url } : {}), ...options.config },
  });
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 12, 0, 0));
  const store = await openStore(options.databaseUrl ?? config.databaseUrl, { pollIntervalMs: 0 });
  let services: Services;
  let app: FastifyInstance;
  try {
    await store.migrate();
    services = await createServices(config, store, { clock });
    if (options.bundle !== undefined) await services.bundles.applyText(options.bundle, 'test bundle');
    app = await buildApp(services);
  } catch (error) {
    // e.g. a test that expects an invalid bundle to be refused: leave no database behind
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await pgSchema?.drop();
    throw error;
  }
  return {
    services,
    app,
    clock,
    dir,
    async close() {
      await app.close();
      await services.close();
      rmSync(dir, { recursive: true, force: true });
      await pgSchema?.drop();
    },
  };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
  token_type: string;
}

export async function login(app: FastifyInstance, username: string, password: string, provider = 'local'): Promise<Tokens> {
  const res = await app.inject({
    method: 'POST',
    url: `/api/auth/provider/${provider}/token`,
    payload: new URLSearchParams({ username, password }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json<Tokens>();
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function apikey(secret: string): Record<string, string> {
  return { authorization: `Apikey ${secret}` };
}
