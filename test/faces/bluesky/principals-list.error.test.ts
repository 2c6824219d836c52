// GET /api/auth/principal — bad query parameters.

import { after, before, describe, test } from 'node:test';
import { assertValidation, bearer, faceHarness, loginAs, PREFIX, send, type Harness, type Tokens } from './fixtures.ts';

describe('GET /principal (errors)', () => {
  let h: Harness;
  let bob: Tokens;
  before(async () => {
    h = await faceHarness();
    bob = await loginAs(h, 'bob');
  });
  after(async () => h.close());

  const list = (query: string) => send(h, { method: 'GET', url: `${PREFIX}/principal${query}`, headers: bearer(bob.access_token) });

  test('a limit that is not a whole number from 1 to 10000: 422 at query.limit', async () => {
    for (const bad of ['0', '-1', 'abc', '1.5', '10001', '1e3', '', '99999999999999999999']) {
      assertValidation(await list(`?limit=${bad}`), ['query', 'limit']);
    }
  });

  test('an "after" longer than any username: 422 at query.after', async () => {
    assertValidation(await list(`?after=${'a'.repeat(256)}`), ['query', 'after']);
  });
});
