// Mounts the Bluesky face under /api/auth with its own error format.

import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { GatehouseError } from '../../../core/errors.ts';
import { FaceError, fromFrameworkError, sendFaceError, toFaceError } from './face.ts';
import login from './routes/login.ts';
import sessionRefresh from './routes/session-refresh.ts';
import sessionRevoke from './routes/session-revoke.ts';
import apikeyCreate from './routes/apikey-create.ts';
import apikeyInfo from './routes/apikey-info.ts';
import apikeyDelete from './routes/apikey-delete.ts';
import whoami from './routes/whoami.ts';
import scopes from './routes/scopes.ts';
import logout from './routes/logout.ts';
import principalsList from './routes/principals-list.ts';
import principalGet from './routes/principal-get.ts';
import principalApikey from './routes/principal-apikey.ts';

export type FaceApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export const ROUTES = [
  login,
  sessionRefresh,
  sessionRevoke,
  apikeyCreate,
  apikeyInfo,
  apikeyDelete,
  whoami,
  scopes,
  logout,
  principalsList,
  principalGet,
  principalApikey,
];

export const PREFIX = '/api/auth';

/**
 * This face's answer to errors the server raises before routing (a URL with broken percent
 * encoding, an over-long path parameter): for the server's `frameworkErrors` option, so that
 * clients of this face get `{"detail": ...}` there too (the Python client reads
 * `response.json()['detail']` on every 4xx).
 */
export function blueskyFrameworkError(error: FastifyError, reply: FastifyReply): void {
  void sendFaceError(reply, fromFrameworkError(error));
}

export async function blueskyFace(instance: FastifyInstance): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  // An empty JSON body is no body: FastAPI never reads the body of a route that takes none, and
  // clients often send `Content-Type: application/json` without a body on POST and DELETE.
  // Anything else goes through Fastify's own parser, with its prototype-poisoning protection.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  app.setErrorHandler((error: FastifyError | GatehouseError | FaceError, request, reply) => {
    let face: FaceError;
    if (error instanceof FaceError) face = error;
    else if (error instanceof GatehouseError) face = toFaceError(error);
    else face = fromFrameworkError(error, request.body === undefined || request.body === null);
    if (face.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendFaceError(reply, face);
  });
  app.setNotFoundHandler((_request, reply) => sendFaceError(reply, new FaceError(404, 'Not Found')));
  for (const route of ROUTES) route(app);
}
