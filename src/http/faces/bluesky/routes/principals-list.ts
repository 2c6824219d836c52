// GET /api/auth/principal — every principal (admin:read:principals).

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { ERROR_RESPONSES, FaceError, guard, PrincipalSchema, principalJson } from '../face.ts';

const MAX_LIMIT = 10000;

/**
 * Query values arrive as text and this app does not coerce types, so `limit` is checked here:
 * a whole number from 1 to MAX_LIMIT, reported in FastAPI's shape otherwise.
 */
function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new FaceError(422, [
      { loc: ['query', 'limit'], msg: `must be a whole number from 1 to ${MAX_LIMIT}`, type: 'value_error' },
    ]);
  }
  return n;
}

export default function principalsList(app: FaceApp): void {
  app.get(
    '/principal',
    {
      schema: {
        summary: 'List principals (users and services)',
        tags: ['bluesky'],
        querystring: Type.Object({
          limit: Type.Optional(Type.String({ pattern: '^[0-9]+$', maxLength: 6 })),
          after: Type.Optional(Type.String({ maxLength: 255 })),
          api_key: Type.Optional(Type.String()),
        }),
        response: { 200: Type.Array(PrincipalSchema), ...ERROR_RESPONSES },
      },
      preValidation: guard(app.services, { scopes: ['admin:read:principals'] }),
    },
    async (request) => {
      const limit = parseLimit(request.query.limit);
      const list = await app.services.principals.list({ after: request.query.after, limit });
      return Promise.all(
        list.map(async (details) => {
          const access = await app.services.auth.resolvePrincipal(details.principal);
          return principalJson(details, { roles: access.roles, scopes: access.scopes, apiKeyScopes: null });
        }),
      );
    },
  );
}
