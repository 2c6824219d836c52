// POST /vedsdk/oauth/getscopes — the scope catalog, in its order, for a token with the admin scope.

import type { FaceApp } from '../plugin.ts';
import { ERROR_RESPONSES, requiredBearer, ScopesSchema, scopesJson, VenafiError } from '../face.ts';

export default function getScopes(app: FaceApp): void {
  app.post(
    '/oauth/getscopes',
    {
      schema: {
        summary: 'List every scope with its restrictions (requires the admin scope)',
        tags: ['venafi'],
        security: [{ bearer: [] }],
        response: { 200: ScopesSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      // The call takes no parameters: no body, or a JSON object (`{}`), whatever it holds.
      const body: unknown = request.body;
      if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
        throw new VenafiError(400, 'invalid_request', 'the body must be a JSON object');
      }
      return scopesJson(await app.services.tpp.getScopes(requiredBearer(request)));
    },
  );
}
