// POST /api/auth/logout — ends the session the access token belongs to.

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { API_KEY_COOKIE, authOf, ERROR_RESPONSES, guard } from '../face.ts';

export default function logout(app: FaceApp): void {
  app.post(
    '/logout',
    {
      schema: {
        summary: 'Log out: revoke the session behind the access token',
        tags: ['bluesky'],
        response: { 200: Type.Object({}), ...ERROR_RESPONSES },
      },
      preValidation: guard(app.services),
    },
    async (request, reply) => {
      await app.services.sessions.logout(authOf(request));
      if (request.cookies?.[API_KEY_COOKIE] !== undefined) reply.clearCookie(API_KEY_COOKIE, { path: '/' });
      return {};
    },
  );
}
