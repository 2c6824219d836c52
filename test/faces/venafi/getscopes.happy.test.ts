// POST /vedsdk/oauth/getscopes — the scope catalog in its order, for a token with the admin scope.
// With a bundle whose catalog is the seed's example, the answer is the seed's response exactly.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  assertFaceHeaders,
  authorizeAs,
  bearer,
  getScopesRequest,
  GETSCOPES,
  seedResponse,
  send,
  VENAFI_BUNDLE,
  venafiHarness,
} from './fixtures.ts';

const SEED = readFileSync(new URL('./seeds/venafi-getscopes.txt', import.meta.url), 'utf8');

/** The seed example's catalog, written out as a bundle section. */
const SEED_CATALOG = `
scopeCatalog:
  - { scope: admin, restrictions: [grantrights, viewlogs] }
  - { scope: configuration, restrictions: [] }
  - { scope: security, restrictions: [] }
  - { scope: restricted, restrictions: [manage] }
  - { scope: statistics, restrictions: [manage, sensitive] }
  - { scope: codesignclient, restrictions: [] }
  - { scope: codesign, restrictions: [admin, approve, delete, manage] }
  - { scope: certificate, restrictions: [discover, manage, revoke] }
  - { scope: ssh, restrictions: [manage] }
  - { scope: agent, restrictions: [delete] }
  - { scope: codesigning, restrictions: [csp] }
`;

/** TPP's catalog (reference/venafi.md), the default. */
const DEFAULT_SCOPES = [
  { RestrictionList: ['delete', 'grantrights', 'recyclebin', 'viewlogs'], Scope: 'admin' },
  { RestrictionList: ['delete', 'manage'], Scope: 'configuration' },
  { RestrictionList: ['delete', 'manage'], Scope: 'security' },
  { RestrictionList: ['delete', 'manage'], Scope: 'restricted' },
  { RestrictionList: ['manage', 'sensitive'], Scope: 'statistics' },
  { RestrictionList: [], Scope: 'codesignclient' },
  { RestrictionList: ['admin', 'approve', 'delete', 'manage'], Scope: 'codesign' },
  { RestrictionList: ['approve', 'delete', 'discover', 'manage', 'revoke'], Scope: 'certificate' },
  { RestrictionList: ['approve', 'delete', 'discover', 'manage'], Scope: 'ssh' },
  { RestrictionList: ['delete'], Scope: 'agent' },
  { RestrictionList: ['csp'], Scope: 'codesigning' },
];

describe('POST /vedsdk/oauth/getscopes (happy)', () => {
  test("with the seed example's catalog, the answer deep-equals the seed's response", async () => {
    // The seed catalog knows fewer restrictions than the default: the admin role and the
    // application stay within it.
    const bundle = `${VENAFI_BUNDLE.replace('"certificate:approve,delete,discover,manage,revoke"', '"certificate:discover,manage,revoke"')}${SEED_CATALOG}`;
    const h = await venafiHarness({}, bundle);
    try {
      const expected = seedResponse(SEED);
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      const res = await getScopesRequest(h, tokens.access_token, '{\n\n}'); // the seed's request body
      assert.equal(res.statusCode, 200, res.body);
      assertFaceHeaders(res);
      assert.deepEqual(res.json(), expected);
      // and the seed is what it claims: eleven scopes, Result 0, Success true
      assert.equal((expected as { Scopes: unknown[] }).Scopes.length, 11);
      assert.equal(res.body, JSON.stringify(expected), 'the same bytes, in the same order');
    } finally {
      await h.close();
    }
  });

  test("without a catalog in the bundle: TPP's catalog, in its order", async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      const res = await getScopesRequest(h, tokens.access_token);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { Result: 0, Scopes: DEFAULT_SCOPES, Success: true });
    } finally {
      await h.close();
    }
  });

  test('a body of {}, an empty body with a JSON content type, or none at all', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      for (const options of [
        { headers: { 'content-type': 'application/json' }, payload: '{}' },
        { headers: { 'content-type': 'application/json' }, payload: '' },
        { headers: { 'content-type': 'application/json; charset=utf-8' }, payload: '{"ignored": true}' },
        { headers: {} },
      ]) {
        const res = await send(h, { method: 'POST', url: GETSCOPES, ...options, headers: { ...options.headers, ...bearer(tokens.access_token) } });
        assert.equal(res.statusCode, 200, `${JSON.stringify(options)}: ${res.body}`);
      }
    } finally {
      await h.close();
    }
  });

  test('a catalog applied while the server runs is the next answer', async () => {
    const h = await venafiHarness();
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
      await h.services.bundles.applyText('scopeCatalog: [{ scope: admin, restrictions: [] }, { scope: certificate, restrictions: [manage, revoke] }]', 'change');
      const res = await getScopesRequest(h, tokens.access_token);
      assert.deepEqual(res.json(), {
        Result: 0,
        Scopes: [
          { RestrictionList: [], Scope: 'admin' },
          { RestrictionList: ['manage', 'revoke'], Scope: 'certificate' },
        ],
        Success: true,
      });
    } finally {
      await h.close();
    }
  });

  test('a restricted admin scope is the admin scope; any path case', async () => {
    const bundle = VENAFI_BUNDLE.replace('[admin, ', '["admin:viewlogs", ').replace('admin-tool, scopes: "admin;', 'admin-tool, scopes: "admin:viewlogs;');
    const h = await venafiHarness({}, bundle);
    try {
      const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin:viewlogs');
      assert.equal(tokens.scope, 'admin:viewlogs');
      const res = await send(h, { method: 'POST', url: '/vedsdk/OAuth/GetScopes', headers: bearer(tokens.access_token), payload: {} });
      assert.equal(res.statusCode, 200, res.body);
    } finally {
      await h.close();
    }
  });
});
