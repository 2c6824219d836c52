// GET /vedauth/authorize/verify — what a bearer access token stands for: its application,
// identity, scope, and when it and its grant were issued and end.

import type { FaceApp } from '../plugin.ts';
import { ERROR_RESPONSES, requiredBearer, VerifySchema, verifyJson } from '../face.ts';

export default function authorizeVerify(app: FaceApp): void {
  app.get(
    '/authorize/verify',
    {
      schema: {
        summary: 'Verify a bearer access token',
        tags: ['venafi'],
        security: [{ bearer: [] }],
        response: { 200: VerifySchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => verifyJson(await app.services.tpp.verify(requiredBearer(request))),
  );
}
