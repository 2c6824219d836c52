// POST /api/auth/provider/{provider}/token — password login (form fields username, password).

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { ERROR_RESPONSES, TokensSchema, tokensJson } from '../face.ts';

export default function login(app: FaceApp): void {
  app.post(
    '/provider/:provider/token',
    {
      schema: {
        summary: 'Log in with username and password; starts a session',
        tags: ['bluesky'],
        consumes: ['application/x-www-form-urlencoded'],
        params: Type.Object({ provider: Type.String({ maxLength: 64 }) }),
        body: Type.Object({
          username: Type.String({ minLength: 1, maxLength: 255 }),
          password: Type.String({ maxLength: 1024 }),
          grant_type: Type.Optional(Type.String()),
          scope: Type.Optional(Type.String()),
          client_id: Type.Optional(Type.String()),
          client_secret: Type.Optional(Type.String()),
        }),
        response: { 200: TokensSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { provider } = request.params;
      const { username, password } = request.body;
      return tokensJson(await app.services.sessions.login(provider, username, password));
    },
  );
}
