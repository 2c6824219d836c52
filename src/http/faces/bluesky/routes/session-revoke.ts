// DELETE /api/auth/session/revoke/{session_id} — end one of the caller's own sessions.

import { Type } from 'typebox';
import type { FaceApp } from '../plugin.ts';
import { authOf, ERROR_RESPONSES, FaceError, guard, SuccessSchema } from '../face.ts';

export default function sessionRevoke(app: FaceApp): void {
  app.delete(
    '/session/revoke/:session_id',
    {
      schema: {
        summary: "Revoke one of the caller's sessions",
        tags: ['bluesky'],
        params: Type.Object({ session_id: Type.String({ maxLength: 64 }) }),
        response: { 200: SuccessSchema, ...ERROR_RESPONSES },
      },
      // Anonymous callers get the same 404 as for another principal's session (as the original).
      preValidation: guard(app.services, { allowAnonymous: true }),
    },
    async (request) => {
      // `/session/revoke/` names no session: the original's router has no such route.
      if (request.params.session_id === '') throw new FaceError(404, 'Not Found');
      await app.services.sessions.revoke(authOf(request), request.params.session_id);
      return { success: true, msg: '' };
    },
  );
}
