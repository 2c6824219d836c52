// GET /vedauth/authorize/verify — the 13 fields of the reference for a valid bearer token.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertFaceHeaders,
  authorizeAs,
  bearer,
  DEFAULT_ACCESS_TTL,
  DEFAULT_GRANT_TTL,
  refreshRequest,
  send,
  uuidOf,
  venafiHarness,
  verifyRequest,
  VERIFY,
  type TokenJson,
  type VerifyJson,
} from './fixtures.ts';

const FIELDS = [
  'access_issued_on',
  'access_issued_on_ISO8601',
  'access_issued_on_unix_time',
  'application',
  'expires',
  'expires_ISO8601',
  'expires_unix_time',
  'grant_issued_on',
  'grant_issued_on_ISO8601',
  'grant_issued_on_unix_time',
  'identity',
  'scope',
  'valid_for',
];

describe('GET /vedauth/authorize/verify (happy)', () => {
  test('13 fields; expires* is the grant’s end; times as /Date(ms)/, YYYY-MM-DDTHH:MM:SSZ and unix seconds', async () => {
    const h = await venafiHarness();
    try {
      const issued = Date.UTC(2026, 10, 23, 12, 0, 0);
      h.clock.set(issued);
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage,revoke');
      const res = await verifyRequest(h, tokens.access_token); // with Content-Type: application/json, no body (vcert)
      assert.equal(res.statusCode, 200, res.body);
      assertFaceHeaders(res);
      const v = res.json<VerifyJson>();
      assert.deepEqual(Object.keys(v).sort(), FIELDS);
      const grantEnd = issued + DEFAULT_GRANT_TTL * 1000;
      assert.deepEqual(v, {
        access_issued_on: `/Date(${issued})/`,
        access_issued_on_ISO8601: '2026-11-23T12:00:00Z',
        access_issued_on_unix_time: issued / 1000,
        application: 'vcert-cli',
        expires: `/Date(${grantEnd})/`,
        expires_ISO8601: '2027-11-23T12:00:00Z',
        expires_unix_time: grantEnd / 1000,
        grant_issued_on: `/Date(${issued})/`,
        grant_issued_on_ISO8601: '2026-11-23T12:00:00Z',
        grant_issued_on_unix_time: issued / 1000,
        identity: `local:{${await uuidOf(h, 'walt')}}`,
        scope: 'certificate:manage,revoke',
        valid_for: DEFAULT_ACCESS_TTL,
      });
      // the token's own end is access_issued_on + valid_for, as authorize said
      assert.equal(v.access_issued_on_unix_time + v.valid_for, tokens.expires);
      assert.equal(v.expires_unix_time, tokens.refresh_until);
    } finally {
      await h.close();
    }
  });

  test('after a refresh: a new access_issued_on; the grant’s issue and end unchanged', async () => {
    const h = await venafiHarness();
    try {
      const first = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      const before = (await verifyRequest(h, first.access_token)).json<VerifyJson>();
      h.clock.advance(3 * 86400 * 1000 + 500);
      const next = (await refreshRequest(h, 'admin-tool', first.refresh_token ?? '')).json<TokenJson>();
      const after = (await verifyRequest(h, next.access_token)).json<VerifyJson>();
      assert.equal(after.access_issued_on_unix_time, before.access_issued_on_unix_time + 3 * 86400);
      assert.equal(after.grant_issued_on, before.grant_issued_on);
      assert.equal(after.expires, before.expires);
      assert.equal(after.valid_for, DEFAULT_ACCESS_TTL);
    } finally {
      await h.close();
    }
  });

  test('the scope is the one in force now: a role change narrows it at once', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'vcert-cli', 'certificate:manage,revoke;ssh:manage');
      assert.equal((await verifyRequest(h, tokens.access_token)).json<VerifyJson>().scope, 'certificate:manage,revoke;ssh:manage');
      await h.services.bundles.applyText('roles: [{ name: tpp-admin, scopes: [admin, "certificate:manage"] }]', 'change');
      assert.equal((await verifyRequest(h, tokens.access_token)).json<VerifyJson>().scope, 'certificate:manage');
    } finally {
      await h.close();
    }
  });

  test('any path case (VenafiPS sends Authorize/Verify); no Content-Type is fine too', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
      for (const url of ['/vedauth/Authorize/Verify', '/VEDAUTH/authorize/VERIFY', VERIFY]) {
        const res = await send(h, { method: 'GET', url, headers: bearer(tokens.access_token) });
        assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      }
    } finally {
      await h.close();
    }
  });
});
