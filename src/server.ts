// Runs Gatehouse as a server: open and migrate the store, apply a bundle if configured, listen,
// keep signing keys fresh and expired rows purged, and shut down gracefully on SIGTERM/SIGINT.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import type { Config } from './config.ts';
import { ValidationError } from './core/errors.ts';
import { buildApp } from './http/app.ts';
import { createLogger } from './logger.ts';
import { createServices, type Services } from './services/index.ts';
import { openStore, redactUrl } from './store/open.ts';
import type { Store } from './store/store.ts';
import { VERSION } from './version.ts';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly logger: Logger;
  /** The address actually bound, e.g. http://127.0.0.1:8000. */
  readonly url: string;
  close(): Promise<void>;
}

/** The server could not bind its address (port taken, address not on this host, no permission). */
export class ListenError extends Error {
  readonly host: string;
  readonly port: number;
  /** The system error code, e.g. EADDRINUSE. */
  readonly code: string;
  constructor(host: string, port: number, error: unknown) {
    const code = (error as { code?: unknown }).code;
    const reason =
      code === 'EADDRINUSE'
        ? 'the port is already in use (stop the other process or choose another port with --port)'
        : code === 'EADDRNOTAVAIL'
          ? 'the address is not one of this host (check --host)'
          : code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges)'
            : code === 'ENOTFOUND'
              ? 'the host name does not resolve (check --host)'
              : error instanceof Error
                ? error.message
                : String(error);
    super(`cannot listen on ${host}:${port}: ${reason}`, { cause: error });
    this.name = 'ListenError';
    this.host = host;
    this.port = port;
    this.code = typeof code === 'string' ? code : 'UNKNOWN';
  }
}

const HOUR = 3600_000;

function readBundle(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
    throw new ValidationError(`cannot read bundle ${path}: ${reason}`, 'bundle');
  }
}

export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const bundleText = config.bundle ? readBundle(config.bundle) : null;
  let store: Store | null = null;
  let services: Services | null = null;
  let app: FastifyInstance | null = null;
  try {
    logger.debug({ config: { ...config, databaseUrl: redactUrl(config.databaseUrl) } }, 'configuration');
    store = await openStore(config.databaseUrl);
    const migration = await store.migrate();
    logger.info({ database: redactUrl(config.databaseUrl), backend: store.backend, applied: migration.applied }, 'database ready');
    services = await createServices(config, store);
    if (config.bundle && bundleText !== null) {
      const report = await services.bundles.applyText(bundleText, config.bundle);
      logger.info({ bundle: config.bundle, report }, 'bundle applied');
    }
    app = await buildApp(services, { logger, defaultMetrics: true, version: VERSION });
    try {
      await app.listen({ host: config.host, port: config.port, listenTextResolver: (address) => `listening at ${address}` });
    } catch (error) {
      throw new ListenError(config.host, config.port, error);
    }
  } catch (error) {
    await app?.close().catch(() => undefined);
    if (services) await services.close().catch(() => undefined);
    else await store?.close().catch(() => undefined);
    throw error;
  }
  const running = { app, services, store };
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, version: VERSION }, 'gatehouse listening');
  await hintWhenEmpty(services, logger);

  const maintenance = setInterval(() => {
    void (async () => {
      try {
        await running.services.keys.ensureSigningKey();
        const removed = await running.store.purgeExpired(running.services.clock.now() - 24 * HOUR);
        if (removed) logger.info({ removed }, 'purged expired sessions and keys');
      } catch (error) {
        logger.warn({ err: error }, 'maintenance failed; will retry');
      }
    })();
  }, HOUR);
  maintenance.unref();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(maintenance);
      await running.app.close();
      await running.services.close();
      logger.info('gatehouse stopped');
    })());
  return { app, services, logger, url, close };
}

/** A first run has nobody to log in as: say how to add someone. */
async function hintWhenEmpty(services: Services, logger: Logger): Promise<void> {
  try {
    if ((await services.users.list({ limit: 1 })).length === 0) {
      logger.info(
        'no users yet: apply a policy bundle (npx gatehouse apply examples/bundle.yaml) or add one (npx gatehouse user add NAME); the server picks them up while it runs',
      );
    }
  } catch {
    // only a hint
  }
}

/** Stops the server on SIGTERM / SIGINT, letting requests in flight finish; a second signal stops at once. */
export function closeOnSignals(server: RunningServer, graceMs = 10_000): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      server.logger.warn({ signal }, 'second signal: stopping now');
      process.exit(1);
    }
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      server.logger.error({ graceMs }, 'requests still running after the grace period; stopping now');
      process.exit(1);
    }, graceMs);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
