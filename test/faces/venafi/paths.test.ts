// Paths: TPP clients spell /vedauth and /vedsdk paths in any case; the lower-casing touches only
// the path of those two prefixes — not their query strings, and no other face.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { venafiRewriteUrl } from '../../../src/http/faces/venafi/face.ts';
import { assertOAuthError, authorizeAs, bearer, send, venafiHarness, type Harness } from './fixtures.ts';

describe('paths of the Venafi face', () => {
  let h: Harness;
  before(async () => {
    h = await venafiHarness();
  });
  after(async () => h.close());

  test('the rewrite lower-cases the path of /vedauth and /vedsdk URLs only', () => {
    assert.equal(venafiRewriteUrl('/VedAuth/Authorize/OAuth'), '/vedauth/authorize/oauth');
    assert.equal(venafiRewriteUrl('/VEDSDK/OAuth/GetScopes?A=B&c=D'), '/vedsdk/oauth/getscopes?A=B&c=D');
    assert.equal(venafiRewriteUrl('/vedauth'), '/vedauth');
    assert.equal(venafiRewriteUrl('/API/AUTH/Scopes'), '/API/AUTH/Scopes');
    assert.equal(venafiRewriteUrl('/VedAuthX/Authorize'), '/VedAuthX/Authorize');
    assert.equal(venafiRewriteUrl('/Docs'), '/Docs');
  });

  test('the clients’ spellings reach the routes', async () => {
    const tokens = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
    for (const [method, url] of [
      ['GET', '/vedauth/authorize/verify'], // vcert
      ['GET', '/vedauth/Authorize/Verify'], // VenafiPS
      ['POST', '/vedsdk/OAuth/GetScopes'], // pyVenafi
      ['POST', '/VEDSDK/oauth/getscopes'],
    ] as const) {
      const res = await send(h, { method, url, headers: bearer(tokens.access_token) });
      assert.equal(res.statusCode, 200, `${method} ${url}: ${res.body}`);
    }
  });

  test("an unknown path under the face's prefixes: 404 in this face's format", async () => {
    for (const url of ['/vedauth/nope', '/VedSdk/Certificates/Request', '/vedauth']) {
      assertOAuthError(await send(h, { method: 'GET', url }), 404, 'invalid_request');
    }
  });

  test("other faces keep case-sensitive paths and their own format", async () => {
    const upper = await send(h, { method: 'GET', url: '/API/AUTH/scopes' });
    assert.equal(upper.statusCode, 404);
    assert.deepEqual(upper.json(), { detail: 'Not Found' });
    const lookalike = await send(h, { method: 'GET', url: '/VedAuthX/authorize/verify' });
    assert.equal(lookalike.statusCode, 404);
    assert.deepEqual(lookalike.json(), { detail: 'Not Found' });
  });
});
