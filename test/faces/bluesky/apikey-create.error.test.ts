// POST /api/auth/apikey — bodies that are refused.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertDetail, assertValidation, bearer, faceHarness, loginAs, notSubset, PREFIX, SCOPES, send, type Harness, type Tokens } from './fixtures.ts';

describe('POST /apikey (errors)', () => {
  let h: Harness;
  let alice: Tokens;
  before(async () => {
    h = await faceHarness();
    alice = await loginAs(h, 'alice');
  });
  after(async () => h.close());

  const create = (payload: unknown, headers: Record<string, string> = {}) =>
    send(h, {
      method: 'POST',
      url: `${PREFIX}/apikey`,
      headers: { 'content-type': 'application/json', ...bearer(alice.access_token), ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  const keyCount = async () => (await h.services.apiKeys.list((await h.services.users.get('alice')).id)).length;

  test('a scope the user lacks: 400 with the exact subset message', async () => {
    const res = await create({ scopes: ['read:status', 'write:manager:stop'] });
    assertDetail(res, 400, notSubset(['read:status', 'write:manager:stop'], SCOPES.user));
  });

  test('an unknown scope: 400 subset message', async () => {
    assertDetail(await create({ scopes: ['read:everything'] }), 400, notSubset(['read:everything'], SCOPES.user));
  });

  test('fractional or non-numeric expires_in: 422 at body.expires_in', async () => {
    assertValidation(await create({ expires_in: 1.5 }), ['body', 'expires_in']);
    assertValidation(await create({ expires_in: '3600' }), ['body', 'expires_in']);
    assertValidation(await create('{"expires_in": 1e309}'), ['body', 'expires_in']);
  });

  test('an expires_in beyond a century: 422', async () => {
    assertValidation(await create({ expires_in: 1e12 }), ['body', 'expires_in']);
  });

  test('scopes that are not a list of strings: 422 at body.scopes', async () => {
    assertValidation(await create({ scopes: 'read:status' }), ['body', 'scopes']);
    assertValidation(await create({ scopes: [1, 2] }), ['body', 'scopes', 0]);
    assertValidation(await create({ scopes: [''] }), ['body', 'scopes', 0]);
  });

  test('a note that is not a string or is too long: 422 at body.note', async () => {
    assertValidation(await create({ note: 5 }), ['body', 'note']);
    assertValidation(await create({ note: 'n'.repeat(256) }), ['body', 'note']);
  });

  test('a body that is not an object: 422 at body', async () => {
    assertValidation(await create([]), ['body']);
    assertValidation(await create('"text"'), ['body']);
  });

  test('no body: 422 Field required at body', async () => {
    const res = await create('');
    assertDetail(res, 422, [{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
  });

  test('malformed JSON: 422 JSON decode error', async () => {
    assertDetail(await create('{"scopes": ['), 422, [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }]);
  });

  test('no key was created by any refused request', async () => {
    assert.equal(await keyCount(), 0);
  });
});
