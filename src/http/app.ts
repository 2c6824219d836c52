// Builds the HTTP application (no listening here: tests call app.inject(), the server listens).

import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { ServerOptions as HttpsOptions } from 'node:https';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import type { Services } from '../services/index.ts';
import { StoreUnavailableError } from '../core/errors.ts';
import { blueskyFace, blueskyFrameworkError, PREFIX as BLUESKY_PREFIX } from './faces/bluesky/plugin.ts';
import { isVenafiUrl, venafiRewriteUrl } from './faces/venafi/face.ts';
import { venafiFace, venafiFrameworkError } from './faces/venafi/plugin.ts';
import { metricsPlugin } from './plugins/metrics.ts';
import { deferredChildLoggerFactory } from './plugins/request-logger.ts';
import './types.ts';

export interface AppOptions {
  /** A pino logger to use; default: no logging. */
  readonly logger?: FastifyBaseLogger;
  /** Collect process metrics (CPU, memory, event loop); off in tests. */
  readonly defaultMetrics?: boolean;
  readonly version?: string;
  /**
   * Serve HTTPS with these options (certificate, key, protocol versions), with
   * `Strict-Transport-Security` on every answer; default: plain HTTP.
   */
  readonly https?: HttpsOptions;
}

/** HSTS when serving HTTPS: browsers use nothing but HTTPS for this host for a year. */
export const HSTS = 'max-age=31536000';

/** Strips credentials from a URL before it is logged. */
export function redactQuery(url: string): string {
  return url.replace(/([?&](?:api_key|apikey|key|token|access_token|refresh_token|id_token|password|secret|client_secret)=)[^&#]*/gi, '$1[redacted]');
}

export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const config = services.config;
  const fastifyOptions: FastifyServerOptions = {
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, maxParamLength: 500 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    return503OnClosing: true,
    // TPP clients spell the /vedauth and /vedsdk paths in any case.
    rewriteUrl: (request) => venafiRewriteUrl(request.url ?? '/'),
    requestTimeout: 30_000,
    // Errors raised before routing (bad percent-encoding, over-long parameters) in the format
    // of the face the URL belongs to; elsewhere in the server's own `{"detail": ...}`.
    frameworkErrors: (error, request, reply) => {
      if (request.url.startsWith(`${BLUESKY_PREFIX}/`)) return blueskyFrameworkError(error, reply);
      if (isVenafiUrl(request.url)) return venafiFrameworkError(error, reply);
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      void (reply as FastifyReply).code(status).send({ detail: error.message });
    },
  };
  // Fastify types an HTTPS app apart; it routes the same, so it is handled as any other app here.
  if (options.https) (fastifyOptions as FastifyServerOptions & { https?: HttpsOptions }).https = options.https;
  const app = options.logger
    ? Fastify({ ...fastifyOptions, loggerInstance: options.logger, childLoggerFactory: deferredChildLoggerFactory })
    : Fastify(fastifyOptions);
  app.decorate('services', services);
  app.decorateRequest('auth', undefined);
  if (options.https) {
    // Set on the raw response before Fastify sees the request, so that every answer carries it:
    // errors raised before routing and the 503s of a closing server included.
    app.server.prependListener('request', (_request, response) => response.setHeader('strict-transport-security', HSTS));
  }

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: config.bodyLimit });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Gatehouse',
        description: 'Identity and permission server: wire-compatible auth faces and the native API',
        version: options.version ?? '0.0.0',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: "'Apikey SECRET'" },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Set before any route: Fastify binds a route's error handler when the route is added.
  // Outside the faces: `{"detail": ...}`, the shape the most common clients (FastAPI-style) read.
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));
  app.setErrorHandler((error: { statusCode?: number; message?: string }, request, reply) => {
    if (error instanceof StoreUnavailableError) {
      return reply.code(503).header('retry-after', '1').send({ detail: 'Service temporarily unavailable' });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'request failed');
    return reply.code(status).send({ detail: status === 500 ? 'Internal Server Error' : error.message });
  });

  metricsPlugin(app, services, { defaultMetrics: options.defaultMetrics ?? false });

  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: the process answers', tags: ['operations'], response: { 200: Type.Object({ status: Type.String() }) } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: the database answers',
        tags: ['operations'],
        response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String() }) },
      },
    },
    async (_request, reply) => {
      if (await services.ready()) return { status: 'ready' };
      return reply.code(503).send({ status: 'unavailable' });
    },
  );
  app.get(
    '/.well-known/jwks.json',
    { schema: { summary: 'Public keys that verify Gatehouse access tokens', tags: ['operations'] } },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return (await services.keys.ring()).jwks();
    },
  );

  await app.register(blueskyFace, { prefix: BLUESKY_PREFIX });
  await app.register(venafiFace);

  await app.ready();
  return app;
}
