// GET /api/auth/scopes — credentials that are presented but wrong are refused, not ignored.

import { after, before, describe, test } from 'node:test';
import { ACCESS_TOKEN_TTL_MS, apikey, assertDetail, bearer, faceHarness, loginAs, PREFIX, send, WIRE, type Harness } from './fixtures.ts';

describe('GET /scopes (errors)', () => {
  let h: Harness;
  before(async () => {
    h = await faceHarness();
  });
  after(async () => h.close());

  const scopes = (headers: Record<string, string>, query = '') => send(h, { method: 'GET', url: `${PREFIX}/scopes${query}`, headers });

  test('a garbage token: 401 Could not validate credentials (no fallback to anonymous)', async () => {
    assertDetail(await scopes(bearer('garbage')), 401, WIRE.badToken);
    assertDetail(await scopes({ authorization: 'Bearer ' }), 401, WIRE.badToken);
  });

  test('a wrong API key: 401 Invalid API key', async () => {
    assertDetail(await scopes(apikey('f'.repeat(72))), 401, WIRE.invalidKey);
    assertDetail(await scopes({}, `?api_key=${'f'.repeat(72)}`), 401, WIRE.invalidKey);
  });

  test('an expired token: 401 Access token has expired. Refresh token.', async () => {
    const tokens = await loginAs(h, 'carol');
    h.clock.advance(ACCESS_TOKEN_TTL_MS + 1);
    assertDetail(await scopes(bearer(tokens.access_token)), 401, WIRE.expired);
  });

  test('Basic: 400', async () => {
    assertDetail(await scopes({ authorization: 'Basic Ym9iOmJvYl9wYXNzd29yZA==' }), 400, WIRE.badScheme);
  });
});
