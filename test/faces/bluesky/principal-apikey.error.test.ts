// POST /api/auth/principal/{uuid}/apikey — unknown targets and scopes beyond theirs.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertDetail, assertValidation, bearer, faceHarness, loginAs, notSubset, PREFIX, SCOPES, send, uuidOf, type Harness, type Tokens } from './fixtures.ts';

describe('POST /principal/{uuid}/apikey (errors)', () => {
  let h: Harness;
  let bob: Tokens;
  before(async () => {
    h = await faceHarness();
    bob = await loginAs(h, 'bob');
  });
  after(async () => h.close());

  const mint = (id: string, payload: unknown) =>
    send(h, { method: 'POST', url: `${PREFIX}/principal/${id}/apikey`, headers: bearer(bob.access_token), payload: payload as Record<string, unknown> });

  test('an unknown principal: 404 Principal <uuid> does not exist or insufficient permissions.', async () => {
    const id = randomUUID();
    assertDetail(await mint(id, {}), 404, `Principal ${id} does not exist or insufficient permissions.`);
  });

  test("scopes beyond the target's: 400 subset message listing the target's scopes", async () => {
    const alice = await uuidOf(h, 'alice');
    assertDetail(await mint(alice, { scopes: ['admin:apikeys'] }), 400, notSubset(['admin:apikeys'], SCOPES.user));
  });

  test('a principal without roles can be given no scope', async () => {
    const nobody = await uuidOf(h, 'nobody');
    assertDetail(await mint(nobody, { scopes: ['read:status'] }), 400, notSubset(['read:status'], []));
  });

  test('not a UUID: 422 at path.uuid', async () => {
    assertValidation(await mint('not-a-uuid', {}), ['path', 'uuid']);
  });

  test('a bad body: 422', async () => {
    const alice = await uuidOf(h, 'alice');
    assertValidation(await mint(alice, { expires_in: 2.5 }), ['body', 'expires_in']);
    assertValidation(await mint(alice, { scopes: 'read:status' }), ['body', 'scopes']);
  });

  test('no key was made by the refused requests', async () => {
    for (const name of ['alice', 'nobody']) {
      assert.equal((await h.services.apiKeys.list(await uuidOf(h, name))).length, 0, name);
    }
  });
});
