// What CLI commands share: configuration from flags, local services over the store, and a
// client for a running server with the saved login.

import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import { GatehouseClient } from '../client/index.ts';
import type { Services } from '../services/index.ts';
import { CliError, EXIT } from './errors.ts';
import { loadCredentials, saveCredentials } from './credentials.ts';
import type { Io } from './io.ts';

export interface LocalOptions {
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
}

/** Adds the options that pick the database to a command that works on it directly. */
export function localOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'config file (JSON or YAML); also GATEHOUSE_CONFIG')
    .option('--data-dir <dir>', 'data directory (default ./data); also GATEHOUSE_DATA_DIR')
    .option('--database-url <url>', 'sqlite:<path> or postgres://…; also GATEHOUSE_DATABASE_URL');
}

export function configFrom(io: Io, opts: LocalOptions, extra: Partial<Record<keyof Config, unknown>> = {}): Config {
  return loadConfig({
    file: opts.config ?? null,
    env: io.env,
    flags: { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, ...extra },
  });
}

/**
 * Runs `fn` with services over the configured store, migrated, then closes everything. The
 * server-side modules load only here, so commands that talk to a server start quickly.
 */
export async function withServices<T>(io: Io, opts: LocalOptions, fn: (services: Services) => Promise<T>): Promise<T> {
  const config = configFrom(io, opts);
  const [{ openStore }, { createServices }] = await Promise.all([import('../store/open.ts'), import('../services/index.ts')]);
  const store = await openStore(config.databaseUrl, { pollIntervalMs: 0 });
  try {
    await store.migrate();
    const services = await createServices(config, store, { ensureKeys: false });
    try {
      return await fn(services);
    } finally {
      await services.close();
    }
  } finally {
    await store.close();
  }
}

export interface RemoteOptions {
  server?: string;
  apiKey?: string;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8000';

export function remoteOptions(command: Command): Command {
  return command
    .option('-s, --server <url>', `Gatehouse server (default: the one you logged in to, else ${DEFAULT_SERVER}); also GATEHOUSE_SERVER`)
    .option('--api-key <secret>', 'authenticate with an API key instead of the saved login; also GATEHOUSE_API_KEY');
}

/** A client for the server, authenticated with --api-key or the saved login (refreshing it as needed). */
export function remoteClient(io: Io, opts: RemoteOptions, requireAuth = true): GatehouseClient {
  const saved = loadCredentials(io.env);
  const apiKey = opts.apiKey ?? io.env.GATEHOUSE_API_KEY;
  const server = opts.server ?? io.env.GATEHOUSE_SERVER ?? saved?.server ?? DEFAULT_SERVER;
  if (apiKey) return new GatehouseClient({ baseUrl: server, credentials: { apiKey } });
  const sameServer = saved && saved.server.replace(/\/+$/, '') === server.replace(/\/+$/, '');
  if (requireAuth && !sameServer) {
    throw new CliError(`not logged in to ${server}: run "gatehouse login" first, or pass --api-key`, EXIT.auth);
  }
  return new GatehouseClient({
    baseUrl: server,
    credentials: sameServer && saved ? { accessToken: saved.access_token, refreshToken: saved.refresh_token } : null,
    onTokens: (tokens) => {
      if (saved && sameServer) {
        saveCredentials(io.env, { ...saved, access_token: tokens.access_token, refresh_token: tokens.refresh_token });
      }
    },
  });
}
