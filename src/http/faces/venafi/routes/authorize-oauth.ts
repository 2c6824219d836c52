// POST /vedauth/authorize/oauth — a password grant for an application: a new grant, its first
// access token and (if the application allows refresh) a refresh token.

import { Type } from 'typebox';
import { MAX_SCOPE_STRING } from '../../../../core/tpp-scope.ts';
import type { FaceApp } from '../plugin.ts';
import { ERROR_RESPONSES, TokenSchema, tokenJson } from '../face.ts';

export default function authorizeOauth(app: FaceApp): void {
  app.post(
    '/authorize/oauth',
    {
      schema: {
        summary: 'Get an access token (and refresh token) with a username and password',
        tags: ['venafi'],
        body: Type.Object({
          client_id: Type.String({ minLength: 1, maxLength: 128 }),
          username: Type.String({ minLength: 1, maxLength: 255 }),
          password: Type.String({ maxLength: 1024 }),
          scope: Type.String({ maxLength: MAX_SCOPE_STRING }),
          state: Type.Optional(Type.String({ maxLength: 1024 })),
        }),
        response: { 200: TokenSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { client_id: clientId, username, password, scope } = request.body;
      return tokenJson(await app.services.tpp.authorize({ clientId, username, password, scope }));
    },
  );
}
