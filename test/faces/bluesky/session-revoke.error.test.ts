// DELETE /api/auth/session/revoke/{session_id} — sessions that cannot be revoked.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertDetail, bearer, faceHarness, loginAs, PREFIX, send, type Harness, type Tokens } from './fixtures.ts';

describe('DELETE /session/revoke/{session_id} (errors)', () => {
  let h: Harness;
  let bob: Tokens;
  before(async () => {
    h = await faceHarness();
    bob = await loginAs(h, 'bob');
  });
  after(async () => h.close());

  const revoke = (id: string) => send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/${id}`, headers: bearer(bob.access_token) });

  test('an unknown session id: 404 No session <id>', async () => {
    const id = randomUUID();
    assertDetail(await revoke(id), 404, `No session ${id}`);
  });

  test('an id that is not a UUID: 404 No session <id>', async () => {
    assertDetail(await revoke('not-a-uuid'), 404, 'No session not-a-uuid');
    assertDetail(await revoke('12345'), 404, 'No session 12345');
  });

  test('no id at all: 404 Not Found (no such route)', async () => {
    assertDetail(await send(h, { method: 'DELETE', url: `${PREFIX}/session/revoke/`, headers: bearer(bob.access_token) }), 404, 'Not Found');
  });

  test('the wrong method: 404', async () => {
    const res = await send(h, { method: 'POST', url: `${PREFIX}/session/revoke/${randomUUID()}`, headers: bearer(bob.access_token) });
    assertDetail(res, 404, 'Not Found');
  });

  test('the caller session still works after refused revocations', async () => {
    const res = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(bob.access_token) });
    assert.equal(res.statusCode, 200);
  });
});
