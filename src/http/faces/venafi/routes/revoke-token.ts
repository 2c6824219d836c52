// GET /vedauth/revoke/token — ends the grant of the bearer access token, with every token of it.

import type { FaceApp } from '../plugin.ts';
import { bearerFrom, EmptySchema, ERROR_RESPONSES } from '../face.ts';

export default function revokeToken(app: FaceApp): void {
  app.get(
    '/revoke/token',
    {
      schema: {
        summary: 'Revoke the grant of a bearer access token (and its refresh token)',
        tags: ['venafi'],
        security: [{ bearer: [] }],
        response: { 200: EmptySchema, 202: EmptySchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const token = bearerFrom(request);
      if (token === null) return reply.code(202).send({}); // nothing to revoke
      await app.services.tpp.revoke(token);
      return {};
    },
  );
}
