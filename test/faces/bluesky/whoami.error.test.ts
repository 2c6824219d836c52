// GET /api/auth/whoami — requests that are refused.

import { after, before, describe, test } from 'node:test';
import { assertDetail, bearer, faceHarness, loginAs, PREFIX, send, WIRE, type Harness } from './fixtures.ts';

describe('GET /whoami (errors)', () => {
  let h: Harness;
  before(async () => {
    h = await faceHarness();
  });
  after(async () => h.close());

  const whoami = (headers: Record<string, string>) => send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers });

  test('no credentials: 401 Not authenticated', async () => {
    assertDetail(await whoami({}), 401, WIRE.notAuthenticated);
  });

  test('"Bearer" with no token, or an empty one: 401 Could not validate credentials', async () => {
    assertDetail(await whoami({ authorization: 'Bearer' }), 401, WIRE.badToken);
    assertDetail(await whoami({ authorization: 'Bearer ' }), 401, WIRE.badToken);
  });

  test('a token with a tampered payload: 401 Could not validate credentials', async () => {
    const tokens = await loginAs(h, 'alice');
    const [head, , sig] = tokens.access_token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: (await h.services.users.get('bob')).id, type: 'access' })).toString('base64url');
    assertDetail(await whoami(bearer(`${head}.${payload}.${sig}`)), 401, WIRE.badToken);
  });

  test('an unknown scheme: 400', async () => {
    assertDetail(await whoami({ authorization: 'Token abc' }), 400, WIRE.badScheme);
    assertDetail(await whoami({ authorization: 'Digest username="bob"' }), 400, WIRE.badScheme);
  });

  test('the wrong method: 404', async () => {
    assertDetail(await send(h, { method: 'POST', url: `${PREFIX}/whoami` }), 404, 'Not Found');
  });
});
