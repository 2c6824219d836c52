// GET /api/auth/principal/{uuid} — one principal (admin:read:principals).

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { ERROR_RESPONSES, guard, PrincipalSchema, principalJson } from '../face.ts';

export const UuidParams = Type.Object({
  uuid: Type.String({ pattern: '^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$' }),
});

/** Accepts a UUID with or without dashes, as Python's uuid.UUID does. */
export function canonicalUuid(value: string): string {
  const hex = value.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export default function principalGet(app: FaceApp): void {
  app.get(
    '/principal/:uuid',
    {
      schema: {
        summary: 'Describe one principal',
        tags: ['bluesky'],
        params: UuidParams,
        response: { 200: PrincipalSchema, ...ERROR_RESPONSES },
      },
      preValidation: guard(app.services, { scopes: ['admin:read:principals'] }),
    },
    async (request) => {
      const details = await app.services.principals.get(canonicalUuid(request.params.uuid));
      const access = await app.services.auth.resolvePrincipal(details.principal);
      return principalJson(details, { roles: access.roles, scopes: access.scopes, apiKeyScopes: null });
    },
  );
}
