// Runs Gatehouse as a server: open and migrate the store, apply a bundle if configured, listen
// (HTTP, or HTTPS with an optional plain-HTTP redirect), keep signing keys fresh and expired rows
// purged, reload the TLS certificate on SIGHUP, and shut down gracefully on SIGTERM/SIGINT.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer, ServerOptions as HttpsOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Config } from './config.ts';
import { ValidationError } from './core/errors.ts';
import { buildApp } from './http/app.ts';
import { createLogger } from './logger.ts';
import { createServices, type Services } from './services/index.ts';
import { openStore, redactUrl } from './store/open.ts';
import type { Store } from './store/store.ts';
import { VERSION } from './version.ts';
import { releaseStartupMemory } from './memory.ts';

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly logger: Logger;
  /** The address actually bound, e.g. http://127.0.0.1:8000 (https://… with TLS). */
  readonly url: string;
  /** The plain-HTTP address that redirects to `url`, if any. */
  readonly redirectUrl: string | null;
  /** Whether the server speaks TLS (and so has a certificate to reload). */
  readonly tls: boolean;
  /**
   * Rereads the TLS certificate and key and serves them to new connections; open connections
   * keep theirs. A pair that does not load is logged and the previous one stays. False without
   * TLS or when the new pair was refused.
   */
  reloadTls(): boolean;
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

/** A serving process checkpoints its SQLite WAL on a thread of its own this often (ms). */
const SQLITE_CHECKPOINT_INTERVAL_MS = 200;

/** The oldest protocol served. */
const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * Node's modern suites without the CBC and non-forward-secret ones its default list still ends
 * with: TLS 1.3's three, then for TLS 1.2 ECDHE (and DHE) with AES-GCM or ChaCha20-Poly1305 only —
 * the "intermediate" profile that every maintained client supports.
 */
const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
].join(':');

/** A certificate and key read from their files, checked, ready for the server. */
export interface TlsPair {
  readonly options: HttpsOptions;
  readonly certificate: X509Certificate;
}

function readPem(key: 'tlsCert' | 'tlsKey', path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : error instanceof Error
              ? error.message
              : String(error);
    throw new ConfigError(`${key} ${path}: cannot read it: ${reason}`);
  }
}

/**
 * Reads a PEM certificate (chain) and its private key (RSA or ECDSA) and checks that they belong
 * together; every refusal is a ConfigError naming the file at fault.
 */
export function loadTlsPair(certPath: string, keyPath: string): TlsPair {
  const cert = readPem('tlsCert', certPath);
  const key = readPem('tlsKey', keyPath);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`tlsCert ${certPath}: not a PEM certificate (expected "-----BEGIN CERTIFICATE-----")`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(key.toString('latin1'));
    throw new ConfigError(
      encrypted
        ? `tlsKey ${keyPath}: the private key is encrypted; give it unencrypted, readable by the server's user only`
        : `tlsKey ${keyPath}: not a PEM private key (expected "-----BEGIN PRIVATE KEY-----" or the RSA or EC form)`,
    );
  }
  let matches: boolean;
  try {
    matches = certificate.checkPrivateKey(privateKey);
  } catch {
    matches = false; // a key of another kind than the certificate's
  }
  if (!matches) {
    throw new ConfigError(`tlsKey ${keyPath} is not the private key of the certificate in tlsCert ${certPath} (${certificate.subject.replace(/\n/g, ', ') || 'no subject'})`);
  }
  const options: HttpsOptions = { cert, key, minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, honorCipherOrder: true };
  try {
    createSecureContext(options);
  } catch (error) {
    throw new ConfigError(`tlsCert ${certPath} and tlsKey ${keyPath}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { options, certificate };
}

/** What the log says about a certificate (nothing secret). */
function describeCertificate(certificate: X509Certificate) {
  return {
    subject: certificate.subject.replace(/\n/g, ', '),
    subjectAltName: certificate.subjectAltName ?? null,
    issuer: certificate.issuer.replace(/\n/g, ', '),
    validTo: certificate.validToDate.toISOString(),
    fingerprint256: certificate.fingerprint256,
  };
}

function warnIfNotValid(certificate: X509Certificate, logger: Logger, now = Date.now()): void {
  if (certificate.validToDate.getTime() <= now) {
    logger.warn({ validTo: certificate.validToDate.toISOString() }, 'the TLS certificate has expired: clients will refuse it');
  } else if (certificate.validFromDate.getTime() > now) {
    logger.warn({ validFrom: certificate.validFromDate.toISOString() }, 'the TLS certificate is not valid yet: clients will refuse it');
  }
}

/** `host` for a URL: IPv6 addresses in brackets. */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The host name of a Host header (without its port), or null when it is not a plain host. */
function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::\d{1,5})?$/.exec(header.trim());
  return match?.[1] ?? null;
}

/** The path and query of a request target (origin form, or the path of an absolute form). */
function pathOf(target: string | undefined): string {
  if (target?.startsWith('/')) return target;
  try {
    const url = new URL(target ?? '/');
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
}

/**
 * A plain-HTTP server that answers every request with `308 Permanent Redirect` to the same path
 * and query over HTTPS (308 keeps the method and body, unlike 301), on the host the client asked
 * for and the HTTPS port.
 */
function redirectServer(httpsPort: () => number, listenHost: string): HttpServer {
  const wildcard = listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '';
  const server = createHttpServer((request, response) => {
    const host = hostOf(request.headers.host) ?? (wildcard ? null : urlHost(listenHost));
    if (host === null) {
      response.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify({ detail: 'a Host header is required' }));
      return;
    }
    const port = httpsPort();
    const location = `https://${host}${port === 443 ? '' : `:${port}`}${pathOf(request.url)}`;
    response.writeHead(308, { location, 'content-length': '0', 'cache-control': 'no-store' });
    response.end();
  });
  server.requestTimeout = 30_000;
  return server;
}

async function listenRedirect(server: HttpServer, host: string, port: number): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new ListenError(host, port, error);
  }
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

function readBundle(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error);
    throw new ValidationError(`cannot read bundle ${path}: ${reason}`, 'bundle');
  }
}

/**
 * Threads of libuv's pool for a server: password hashes hold a thread each for the whole hash
 * (tens of ms), so the pool gets `passwordConcurrency` threads for them plus 4 for everything
 * else that runs there (WebCrypto signatures and key imports, file system, DNS): logins never
 * take every thread from the token work of other requests. An explicit UV_THREADPOOL_SIZE wins.
 */
export function threadPoolSize(config: Pick<Config, 'passwordConcurrency'>, env: NodeJS.ProcessEnv): number {
  const explicit = Number(env.UV_THREADPOOL_SIZE);
  if (Number.isInteger(explicit) && explicit > 0) return explicit;
  return Math.min(1024, config.passwordConcurrency + 4);
}

export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  // read by libuv when its pool first runs work, which nothing has done before this point
  process.env.UV_THREADPOOL_SIZE = String(threadPoolSize(config, process.env));
  const logger = options.logger ?? createLogger(config.logLevel);
  const bundleText = config.bundle ? readBundle(config.bundle) : null;
  // Checked before anything is opened: a bad certificate or key stops start-up at once.
  const tls = config.tlsCert && config.tlsKey ? loadTlsPair(config.tlsCert, config.tlsKey) : null;
  let store: Store | null = null;
  let services: Services | null = null;
  let app: FastifyInstance | null = null;
  let redirect: HttpServer | null = null;
  let redirectUrl: string | null = null;
  try {
    logger.debug({ config: { ...config, databaseUrl: redactUrl(config.databaseUrl) } }, 'configuration');
    store = await openStore(config.databaseUrl, { checkpointIntervalMs: SQLITE_CHECKPOINT_INTERVAL_MS });
    const migration = await store.migrate();
    logger.info({ database: redactUrl(config.databaseUrl), backend: store.backend, applied: migration.applied }, 'database ready');
    services = await createServices(config, store);
    if (config.bundle && bundleText !== null) {
      const report = await services.bundles.applyText(bundleText, config.bundle);
      logger.info({ bundle: config.bundle, report }, 'bundle applied');
    }
    app = await buildApp(services, { logger, defaultMetrics: true, version: VERSION, ...(tls ? { https: tls.options } : {}) });
    try {
      await app.listen({ host: config.host, port: config.port, listenTextResolver: (address) => `listening at ${address}` });
    } catch (error) {
      throw new ListenError(config.host, config.port, error);
    }
    if (tls) {
      logger.info({ certificate: describeCertificate(tls.certificate) }, 'TLS certificate loaded');
      warnIfNotValid(tls.certificate, logger);
    }
    if (tls && config.httpRedirectPort !== null) {
      const server = app.server;
      redirect = redirectServer(() => {
        const address = server.address();
        return typeof address === 'object' && address ? address.port : config.port;
      }, config.host);
      const port = await listenRedirect(redirect, config.host, config.httpRedirectPort);
      redirectUrl = `http://${urlHost(config.host)}:${port}`;
    }
  } catch (error) {
    if (redirect?.listening) redirect.close();
    await app?.close().catch(() => undefined);
    if (services) await services.close().catch(() => undefined);
    else await store?.close().catch(() => undefined);
    throw error;
  }
  const running = { app, services, store, redirect };
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `${tls ? 'https' : 'http'}://${urlHost(config.host)}:${port}`;
  logger.info({ url, ...(redirectUrl ? { redirectFrom: redirectUrl } : {}), version: VERSION }, 'gatehouse listening');
  await hintWhenEmpty(services, logger);
  releaseStartupMemory();

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

  const reloadTls = (): boolean => {
    if (!tls || !config.tlsCert || !config.tlsKey) return false;
    let next: TlsPair;
    try {
      next = loadTlsPair(config.tlsCert, config.tlsKey);
    } catch (error) {
      logger.error(
        { reason: error instanceof Error ? error.message : String(error) },
        'TLS certificate reload failed; still serving the previous certificate',
      );
      return false;
    }
    // New connections get the new pair; open ones keep the one they started with.
    (running.app.server as unknown as HttpsServer).setSecureContext(next.options);
    logger.info({ certificate: describeCertificate(next.certificate) }, 'TLS certificate reloaded');
    warnIfNotValid(next.certificate, logger);
    return true;
  };

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(maintenance);
      const redirecting = running.redirect;
      if (redirecting) {
        await new Promise<void>((resolve) => {
          redirecting.close(() => resolve());
          redirecting.closeAllConnections();
        });
      }
      await running.app.close();
      await running.services.close();
      logger.info('gatehouse stopped');
    })());
  return { app, services, logger, url, redirectUrl, tls: tls !== null, reloadTls, close };
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

/**
 * With TLS, SIGHUP rereads the certificate and key (after a renewal) without a restart and
 * without dropping a connection. Without TLS, SIGHUP keeps its default meaning.
 */
export function reloadTlsOnSighup(server: RunningServer): void {
  if (!server.tls) return;
  process.on('SIGHUP', () => {
    server.logger.info({ signal: 'SIGHUP' }, 'reloading the TLS certificate');
    server.reloadTls();
  });
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
