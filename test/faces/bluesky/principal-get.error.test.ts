// GET /api/auth/principal/{uuid} — unknown and malformed ids.

import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertDetail, assertValidation, bearer, faceHarness, loginAs, PREFIX, send, type Harness, type Tokens } from './fixtures.ts';

describe('GET /principal/{uuid} (errors)', () => {
  let h: Harness;
  let bob: Tokens;
  before(async () => {
    h = await faceHarness();
    bob = await loginAs(h, 'bob');
  });
  after(async () => h.close());

  const get = (id: string) => send(h, { method: 'GET', url: `${PREFIX}/principal/${id}`, headers: bearer(bob.access_token) });

  test('an unknown UUID: 404 Principal <uuid> does not exist or insufficient permissions.', async () => {
    const id = randomUUID();
    assertDetail(await get(id), 404, `Principal ${id} does not exist or insufficient permissions.`);
  });

  test('not a UUID: 422 at path.uuid', async () => {
    for (const bad of ['not-a-uuid', '1234', `${randomUUID()}0`, 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', encodeURIComponent("' OR 1=1 --")]) {
      assertValidation(await get(bad), ['path', 'uuid']);
    }
  });
});
