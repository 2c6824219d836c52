// DELETE /api/auth/apikey?first_eight=XXXXXXXX — revoke one of the caller's API keys.

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { authOf, ERROR_RESPONSES, guard, SuccessSchema } from '../face.ts';

export default function apikeyDelete(app: FaceApp): void {
  app.delete(
    '/apikey',
    {
      schema: {
        summary: "Revoke one of the caller's API keys by its first eight characters",
        tags: ['bluesky'],
        querystring: Type.Object({
          first_eight: Type.String({ minLength: 1, maxLength: 72 }),
          api_key: Type.Optional(Type.String()),
        }),
        response: { 200: SuccessSchema, ...ERROR_RESPONSES },
      },
      preValidation: guard(app.services, { scopes: ['user:apikeys'] }),
    },
    async (request) => {
      await app.services.apiKeys.revoke(authOf(request), request.query.first_eight);
      return { success: true, msg: '' };
    },
  );
}
