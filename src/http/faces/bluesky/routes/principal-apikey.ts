// POST /api/auth/principal/{uuid}/apikey — an API key for another principal (admin:apikeys),
// capped by that principal's scopes.

import type { FaceApp } from '../plugin.ts';
import { ApiKeyWithSecretSchema, apiKeyJson, ERROR_RESPONSES, guard, jsonBodyOnly } from '../face.ts';
import { ApiKeyParamsSchema, keyParams } from './apikey-create.ts';
import { canonicalUuid, UuidParams } from './principal-get.ts';

export default function principalApikey(app: FaceApp): void {
  app.post(
    '/principal/:uuid/apikey',
    {
      schema: {
        summary: 'Create an API key for a principal',
        tags: ['bluesky'],
        params: UuidParams,
        body: ApiKeyParamsSchema,
        response: { 200: ApiKeyWithSecretSchema, ...ERROR_RESPONSES },
      },
      preValidation: [guard(app.services, { scopes: ['admin:apikeys'] }), jsonBodyOnly],
    },
    async (request) => {
      const created = await app.services.apiKeys.createFor(canonicalUuid(request.params.uuid), keyParams(request.body));
      return { ...apiKeyJson(created.key), secret: created.secret };
    },
  );
}
