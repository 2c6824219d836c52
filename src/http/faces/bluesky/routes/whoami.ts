// GET /api/auth/whoami — the calling principal with identities, keys, sessions, roles and scopes.

import type { FaceApp } from '../plugin.ts';
import { authOf, ERROR_RESPONSES, guard, PrincipalSchema, principalJson } from '../face.ts';

export default function whoami(app: FaceApp): void {
  app.get(
    '/whoami',
    {
      schema: {
        summary: 'Who the caller is',
        tags: ['bluesky'],
        response: { 200: PrincipalSchema, ...ERROR_RESPONSES },
      },
      preValidation: guard(app.services),
    },
    async (request) => {
      const ctx = authOf(request);
      const details = await app.services.principals.whoami(ctx);
      return principalJson(details, { roles: ctx.roles, scopes: ctx.scopes, apiKeyScopes: ctx.apiKey?.scopes ?? null });
    },
  );
}
