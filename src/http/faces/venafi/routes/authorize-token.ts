// POST /vedauth/authorize/token — a refresh token for a new access token AND a new refresh token;
// refresh_until stays. A used refresh token presented again revokes the grant.

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { asGrantError, ERROR_RESPONSES, TokenSchema, tokenJson } from '../face.ts';

export default function authorizeToken(app: FaceApp): void {
  app.post(
    '/authorize/token',
    {
      schema: {
        summary: 'Exchange a refresh token for new access and refresh tokens',
        tags: ['venafi'],
        body: Type.Object({
          client_id: Type.String({ minLength: 1, maxLength: 128 }),
          refresh_token: Type.String({ minLength: 1, maxLength: 4096 }),
        }),
        response: { 200: TokenSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { client_id: clientId, refresh_token: refreshToken } = request.body;
      try {
        return tokenJson(await app.services.tpp.refresh(clientId, refreshToken));
      } catch (error) {
        throw asGrantError(error);
      }
    },
  );
}
