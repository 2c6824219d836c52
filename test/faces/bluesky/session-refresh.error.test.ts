// POST /api/auth/session/refresh — refused refreshes and bad requests.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertDetail, assertValidation, faceHarness, loginAs, PREFIX, send, WIRE, type Harness } from './fixtures.ts';

const refresh = (h: Harness, payload: unknown, headers: Record<string, string> = {}) =>
  send(h, {
    method: 'POST',
    url: `${PREFIX}/session/refresh`,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

describe('POST /session/refresh (errors)', () => {
  test('an unknown refresh token: 401 Session has expired', async () => {
    const h = await faceHarness();
    try {
      assertDetail(await refresh(h, { refresh_token: 'x'.repeat(43) }), 401, WIRE.sessionExpired);
      assertDetail(await refresh(h, { refresh_token: '' }), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('a refresh token past its 7-day lifetime: 401 Session has expired', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'bob');
      h.clock.advance(604800 * 1000 + 1000);
      assertDetail(await refresh(h, { refresh_token: tokens.refresh_token }), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('a user who lost every role: 401 Permissions for the user are revoked', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'alice');
      await h.services.users.setRoles('alice', []);
      assertDetail(await refresh(h, { refresh_token: tokens.refresh_token }), 401, WIRE.permissionsRevoked);
    } finally {
      await h.close();
    }
  });

  test('a removed user: 401 Session has expired (not a 500)', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'erin');
      await h.services.users.remove('erin');
      assertDetail(await refresh(h, { refresh_token: tokens.refresh_token }), 401, WIRE.sessionExpired);
    } finally {
      await h.close();
    }
  });

  test('missing field: 422 at body.refresh_token', async () => {
    const h = await faceHarness();
    try {
      assertValidation(await refresh(h, {}), ['body', 'refresh_token']);
    } finally {
      await h.close();
    }
  });

  test('wrong type: 422', async () => {
    const h = await faceHarness();
    try {
      assertValidation(await refresh(h, { refresh_token: 42 }), ['body', 'refresh_token']);
      assertValidation(await refresh(h, { refresh_token: null }), ['body', 'refresh_token']);
      assertValidation(await refresh(h, ['token']), ['body']);
    } finally {
      await h.close();
    }
  });

  test('no body: 422 Field required at body', async () => {
    const h = await faceHarness();
    try {
      const res = await send(h, { method: 'POST', url: `${PREFIX}/session/refresh` });
      assert.deepEqual(res.json(), { detail: [{ loc: ['body'], msg: 'Field required', type: 'missing' }] });
      assert.equal(res.statusCode, 422);
      const empty = await refresh(h, '');
      assert.deepEqual(empty.json(), { detail: [{ loc: ['body'], msg: 'Field required', type: 'missing' }] });
    } finally {
      await h.close();
    }
  });

  test('a form or text body: 422 (the body is JSON)', async () => {
    const h = await faceHarness();
    try {
      const tokens = await loginAs(h, 'bob');
      const detail = [{ loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' }];
      const form = await send(h, {
        method: 'POST',
        url: `${PREFIX}/session/refresh`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ refresh_token: tokens.refresh_token }).toString(),
      });
      assertDetail(form, 422, detail);
      const text = await send(h, {
        method: 'POST',
        url: `${PREFIX}/session/refresh`,
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ refresh_token: tokens.refresh_token }),
      });
      assertDetail(text, 422, detail);
      // the token was not spent by the refused requests
      assert.equal((await refresh(h, { refresh_token: tokens.refresh_token })).statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('malformed JSON: 422 JSON decode error', async () => {
    const h = await faceHarness();
    try {
      const res = await refresh(h, '{"refresh_token": ');
      assertDetail(res, 422, [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }]);
    } finally {
      await h.close();
    }
  });
});
