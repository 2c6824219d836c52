// POST /api/auth/session/refresh — a new token pair for a refresh token (single use).

import { Type } from 'typebox';
import { AccountNotAuthorizedError } from '../../../../core/errors.ts';
import type { FaceApp } from '../plugin.ts';
import { ERROR_RESPONSES, FaceError, jsonBodyOnly, MESSAGES, TokensSchema, tokensJson } from '../face.ts';

export default function sessionRefresh(app: FaceApp): void {
  app.post(
    '/session/refresh',
    {
      schema: {
        summary: 'Exchange a refresh token for new access and refresh tokens',
        tags: ['bluesky'],
        body: Type.Object({ refresh_token: Type.String({ maxLength: 4096 }) }),
        response: { 200: TokensSchema, ...ERROR_RESPONSES },
      },
      preValidation: jsonBodyOnly,
    },
    async (request) => {
      try {
        return tokensJson(await app.services.sessions.refresh(request.body.refresh_token));
      } catch (error) {
        if (error instanceof AccountNotAuthorizedError) throw new FaceError(401, MESSAGES.permissionsRevoked);
        throw error;
      }
    },
  );
}
