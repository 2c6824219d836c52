// GET /api/auth/apikey — requests that carry no usable key.

import { after, before, describe, test } from 'node:test';
import { apikey, assertDetail, bearer, createKey, faceHarness, loginAs, PREFIX, send, WIRE, type Harness, type Tokens } from './fixtures.ts';

describe('GET /apikey (errors)', () => {
  let h: Harness;
  let bob: Tokens;
  before(async () => {
    h = await faceHarness();
    bob = await loginAs(h, 'bob');
  });
  after(async () => h.close());

  const info = (headers: Record<string, string>, query = '') => send(h, { method: 'GET', url: `${PREFIX}/apikey${query}`, headers });

  test('no credentials: 401 No API key was provided with this request.', async () => {
    assertDetail(await info({}), 401, WIRE.noApiKey);
  });

  test('a bearer token is not an API key: 401 No API key was provided', async () => {
    assertDetail(await info(bearer(bob.access_token)), 401, WIRE.noApiKey);
  });

  test('a secret that is not hex, or the wrong length: 401 Invalid API key', async () => {
    assertDetail(await info(apikey('zz'.repeat(36))), 401, WIRE.invalidKey);
    assertDetail(await info(apikey('ab'.repeat(35))), 401, WIRE.invalidKey);
    assertDetail(await info(apikey('')), 401, WIRE.invalidKey);
  });

  test('an empty api_key query parameter or cookie counts as no key (FastAPI reads "" as absent)', async () => {
    assertDetail(await info({}, '?api_key='), 401, WIRE.noApiKey);
    assertDetail(await info({ cookie: 'bluesky_httpserver_api_key=' }), 401, WIRE.noApiKey);
  });

  test('a well-formed secret no key has: 401 Invalid API key', async () => {
    assertDetail(await info(apikey('0'.repeat(72))), 401, WIRE.invalidKey);
  });

  test('an expired key: 401 Invalid API key', async () => {
    const key = await createKey(h, bearer(bob.access_token), { expires_in: 60 });
    h.clock.advance(61_000);
    assertDetail(await info(apikey(key.secret)), 401, WIRE.invalidKey);
  });
});
