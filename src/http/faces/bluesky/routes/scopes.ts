// GET /api/auth/scopes — the caller's roles and the exact scopes the server grants this request.

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { authOf, ERROR_RESPONSES, guard } from '../face.ts';

export default function scopes(app: FaceApp): void {
  app.get(
    '/scopes',
    {
      schema: {
        summary: 'Roles and effective scopes of the caller',
        tags: ['bluesky'],
        response: {
          200: Type.Object({ roles: Type.Array(Type.String()), scopes: Type.Array(Type.String()) }),
          ...ERROR_RESPONSES,
        },
      },
      preValidation: guard(app.services, { allowAnonymous: true }),
    },
    async (request) => {
      const ctx = authOf(request);
      return { roles: [...ctx.roles], scopes: [...ctx.scopes] };
    },
  );
}
