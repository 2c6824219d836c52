// What the HTTP layer adds to Fastify's types.

import type { Services } from '../services/index.ts';
import type { AuthContext } from '../services/context.ts';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
  interface FastifyRequest {
    /** Set by a face's guard once the caller is authenticated. */
    auth?: AuthContext;
  }
}
