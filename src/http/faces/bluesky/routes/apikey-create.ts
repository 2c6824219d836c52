// POST /api/auth/apikey — a new API key for the caller; the secret is shown only here.

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { ApiKeyWithSecretSchema, apiKeyJson, authOf, ERROR_RESPONSES, guard, jsonBodyOnly } from '../face.ts';

export const ApiKeyParamsSchema = Type.Object({
  // A negative lifetime is accepted, as by the original: the key is born expired.
  expires_in: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  scopes: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000 }), Type.Null()])),
  note: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
});

export function keyParams(body: { expires_in?: number | null; scopes?: string[] | null; note?: string | null }) {
  return { expiresIn: body.expires_in ?? null, scopes: body.scopes ?? null, note: body.note ?? null };
}

export default function apikeyCreate(app: FaceApp): void {
  app.post(
    '/apikey',
    {
      schema: {
        summary: 'Create an API key for the caller',
        tags: ['bluesky'],
        body: ApiKeyParamsSchema,
        response: { 200: ApiKeyWithSecretSchema, ...ERROR_RESPONSES },
      },
      preValidation: [guard(app.services, { scopes: ['user:apikeys'] }), jsonBodyOnly],
    },
    async (request) => {
      const created = await app.services.apiKeys.create(authOf(request), keyParams(request.body));
      return { ...apiKeyJson(created.key), secret: created.secret };
    },
  );
}
