// Mounts the Venafi TPP face under /vedauth (tokens) and /vedsdk (getscopes), each with this
// face's error format, JSON-only bodies and `Cache-Control: no-store` on every answer.

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
import { AUTH_PREFIX, fromFrameworkError, SDK_PREFIX, sendVenafiError, toVenafiError, VenafiError } from './face.ts';
import authorizeOauth from './routes/authorize-oauth.ts';
import authorizeToken from './routes/authorize-token.ts';
import authorizeVerify from './routes/authorize-verify.ts';
import revokeToken from './routes/revoke-token.ts';
import getScopes from './routes/getscopes.ts';

export type FaceApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Routes by prefix. */
export const ROUTES = {
  [AUTH_PREFIX]: [authorizeOauth, authorizeToken, authorizeVerify, revokeToken],
  [SDK_PREFIX]: [getScopes],
} as const;

/** This face's answer to errors the server raises before routing, for the `frameworkErrors` option. */
export function venafiFrameworkError(error: FastifyError, reply: FastifyReply): void {
  void sendVenafiError(reply, fromFrameworkError(error));
}

async function mount(instance: FastifyInstance, routes: readonly ((app: FaceApp) => void)[]): Promise<void> {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  // Bodies are JSON or nothing: an empty JSON body is no body (clients send
  // `Content-Type: application/json` on bodiless requests); other media types are refused.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('pragma', 'no-cache');
  });
  app.setErrorHandler((error: FastifyError | GatehouseError | VenafiError, request, reply) => {
    let face: VenafiError;
    if (error instanceof VenafiError) face = error;
    else if (error instanceof GatehouseError) face = toVenafiError(error);
    else face = fromFrameworkError(error);
    if (face.status >= 500 && face.status !== 503) request.log.error({ err: error }, 'request failed');
    return sendVenafiError(reply, face);
  });
  app.setNotFoundHandler((_request, reply) => sendVenafiError(reply, new VenafiError(404, 'invalid_request', 'no such endpoint')));
  for (const route of routes) route(app);
}

export async function venafiFace(instance: FastifyInstance): Promise<void> {
  await instance.register(async (auth) => mount(auth, ROUTES[AUTH_PREFIX]), { prefix: AUTH_PREFIX });
  await instance.register(async (sdk) => mount(sdk, ROUTES[SDK_PREFIX]), { prefix: SDK_PREFIX });
}
