// POST /api/auth/logout — ends the session the access token belongs to. Like the original, it
// answers {} whatever the state of the caller's credentials (none, expired, already revoked), so
// a client can always forget its tokens; only a malformed Authorization header is refused.

import { Type } from 'typebox';
import { GatehouseError, StoreUnavailableError } from '../../../../core/errors.ts';
import type { FaceApp } from '../plugin.ts';
import { API_KEY_COOKIE, credentialFrom, ERROR_RESPONSES } from '../face.ts';

export default function logout(app: FaceApp): void {
  app.post(
    '/logout',
    {
      schema: {
        summary: 'Log out: revoke the session behind the access token',
        tags: ['bluesky'],
        response: { 200: Type.Object({}), ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const credential = credentialFrom(request);
      try {
        await app.services.sessions.logout(await app.services.auth.authenticate(credential));
      } catch (error) {
        if (!(error instanceof GatehouseError) || error instanceof StoreUnavailableError) throw error;
      }
      if (request.cookies?.[API_KEY_COOKIE] !== undefined) reply.clearCookie(API_KEY_COOKIE, { path: '/' });
      return {};
    },
  );
}
