// GET /api/auth/apikey — what the API key used on this request is (never its secret).

import type { FaceApp } from '../plugin.ts';
import { ApiKeySchema, apiKeyFrom, apiKeyJson, ERROR_RESPONSES, FaceError, MESSAGES } from '../face.ts';

export default function apikeyInfo(app: FaceApp): void {
  app.get(
    '/apikey',
    {
      schema: {
        summary: 'Describe the API key this request authenticates with',
        tags: ['bluesky'],
        response: { 200: ApiKeySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const secret = apiKeyFrom(request);
      if (secret === null) throw new FaceError(401, MESSAGES.noApiKey);
      return apiKeyJson(await app.services.apiKeys.info(secret));
    },
  );
}
