// Runs Gatehouse as a server: open and migrate the store, apply a bundle if configured, listen,
// keep signing keys fresh and expired rows purged, and shut down gracefully on SIGTERM/SIGINT.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import { createLogger } from './logger.ts';
import { createServices, type Services } from './services/index.ts';
import { openStore, redactUrl } from './store/open.ts';
import { VERSION } from './version.ts';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly logger: Logger;
  /** The address actually bound, e.g. http://127.0.0.1:8000. */
  readonly url: string;
  close(): Promise<void>;
}

const HOUR = 3600_000;

export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const store = await openStore(config.databaseUrl);
  const migration = await store.migrate();
  logger.info({ database: redactUrl(config.databaseUrl), backend: store.backend, applied: migration.applied }, 'database ready');
  const services = await createServices(config, store);
  if (config.bundle) {
    const report = await services.bundles.applyText(readFileSync(config.bundle, 'utf8'), config.bundle);
    logger.info({ bundle: config.bundle, report }, 'bundle applied');
  }
  const app = await buildApp(services, { logger, defaultMetrics: true, version: VERSION });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, version: VERSION }, 'gatehouse listening');

  const maintenance = setInterval(() => {
    void (async () => {
      try {
        await services.keys.ensureSigningKey();
        const removed = await store.purgeExpired(services.clock.now() - 24 * HOUR);
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
      await app.close();
      await services.close();
      logger.info('gatehouse stopped');
    })());
  return { app, services, logger, url, close };
}

/** Stops the server on SIGTERM / SIGINT, letting requests in flight finish. */
export function closeOnSignals(server: RunningServer): void {
  const stop = (signal: string) => {
    server.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
