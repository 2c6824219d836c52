// DELETE /api/auth/apikey — keys that cannot be deleted and malformed requests.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertDetail, assertValidation, bearer, createKey, faceHarness, loginAs, PREFIX, send, WIRE, type Harness, type Tokens } from './fixtures.ts';

describe('DELETE /apikey (errors)', () => {
  let h: Harness;
  let bob: Tokens;
  before(async () => {
    h = await faceHarness();
    bob = await loginAs(h, 'bob');
  });
  after(async () => h.close());

  const del = (query: string) => send(h, { method: 'DELETE', url: `${PREFIX}/apikey${query}`, headers: bearer(bob.access_token) });

  test('an unknown first_eight: 404 The currently-authenticated user has no such API key.', async () => {
    assertDetail(await del('?first_eight=deadbeef'), 404, WIRE.noSuchKey);
  });

  test('a key already deleted: 404', async () => {
    const key = await createKey(h, bearer(bob.access_token));
    assert.equal((await del(`?first_eight=${key.first_eight}`)).statusCode, 200);
    assertDetail(await del(`?first_eight=${key.first_eight}`), 404, WIRE.noSuchKey);
  });

  test('first_eight missing or empty: 422 at query.first_eight', async () => {
    assertValidation(await del(''), ['query', 'first_eight']);
    assertValidation(await del('?first_eight='), ['query', 'first_eight']);
  });

  test('first_eight repeated: 422 (one value expected)', async () => {
    assertValidation(await del('?first_eight=aaaaaaaa&first_eight=bbbbbbbb'), ['query', 'first_eight']);
  });
});
