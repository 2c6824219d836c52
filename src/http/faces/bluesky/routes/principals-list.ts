// GET /api/auth/principal — every principal (admin:read:principals).

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { ERROR_RESPONSES, guard, PrincipalSchema, principalJson } from '../face.ts';

export default function principalsList(app: FaceApp): void {
  app.get(
    '/principal',
    {
      schema: {
        summary: 'List principals (users and services)',
        tags: ['bluesky'],
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
          after: Type.Optional(Type.String({ maxLength: 255 })),
          api_key: Type.Optional(Type.String()),
        }),
        response: { 200: Type.Array(PrincipalSchema), ...ERROR_RESPONSES },
      },
      preHandler: guard(app.services, { scopes: ['admin:read:principals'] }),
    },
    async (request) => {
      const { limit, after } = request.query;
      const list = await app.services.principals.list({ limit, after });
      return Promise.all(
        list.map(async (details) => {
          const access = await app.services.auth.resolvePrincipal(details.principal);
          return principalJson(details, { roles: access.roles, scopes: access.scopes, apiKeyScopes: null });
        }),
      );
    },
  );
}
