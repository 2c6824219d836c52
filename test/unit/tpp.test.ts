// TPP scopes as policy (src/core/tpp.ts): the default catalog, which role entries are TPP scopes,
// application scopes, and the grant — with properties: a grant never holds more than any of the
// requested scope, the application's and the user's.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  catalogProblems,
  catalogScopeSet,
  checkApplicationScopes,
  checkRequestedScope,
  DEFAULT_SCOPE_CATALOG,
  grantTppScope,
  storedTppScope,
  tppScopeOfEntry,
  userTppScopes,
} from '../../src/core/tpp.ts';
import { normalize, printTppScope, tppWithin, type TppScopeSet } from '../../src/core/tpp-scope.ts';

const CATALOG = catalogScopeSet(DEFAULT_SCOPE_CATALOG);

describe('the default scope catalog', () => {
  test("is TPP's, in the order TPP lists it", () => {
    assert.deepEqual(
      DEFAULT_SCOPE_CATALOG.map((e) => e.scope),
      ['admin', 'configuration', 'security', 'restricted', 'statistics', 'codesignclient', 'codesign', 'certificate', 'ssh', 'agent', 'codesigning'],
    );
    assert.deepEqual(DEFAULT_SCOPE_CATALOG.find((e) => e.scope === 'certificate')?.restrictions, ['approve', 'delete', 'discover', 'manage', 'revoke']);
    assert.deepEqual(DEFAULT_SCOPE_CATALOG.find((e) => e.scope === 'codesignclient')?.restrictions, []);
    assert.deepEqual(catalogProblems(DEFAULT_SCOPE_CATALOG), []);
  });

  test('catalog problems: a scope or a restriction listed twice', () => {
    assert.deepEqual(
      catalogProblems([
        { scope: 'a', restrictions: ['x', 'x'] },
        { scope: 'a', restrictions: [] },
      ]),
      ['[0].restrictions[1]: "x" appears more than once', '[1].scope: "a" appears more than once'],
    );
  });
});

describe('which role scope entries are TPP scopes', () => {
  test('entries that parse and name only catalog scopes and restrictions', () => {
    for (const entry of ['admin', 'certificate:manage,revoke', 'codesignclient', 'ssh:manage;agent:delete', 'certificate:']) {
      assert.notEqual(tppScopeOfEntry(entry, CATALOG), null, entry);
    }
  });

  test("queue-server scopes and anything outside the catalog are not", () => {
    for (const entry of ['admin:apikeys', 'read:status', 'write:queue:edit', 'user:apikeys', 'inherit', 'certificate:fly', 'certificates', '']) {
      assert.equal(tppScopeOfEntry(entry, CATALOG), null, entry);
    }
  });

  test("a user's TPP scopes are the union over their entries", () => {
    const user = userTppScopes(['read:status', 'certificate:manage', 'certificate:revoke', 'admin:apikeys', 'ssh'], CATALOG);
    assert.equal(printTppScope(user), 'certificate:manage,revoke;ssh');
  });
});

describe('application scopes and requests', () => {
  test('application scopes must parse and lie within the catalog', () => {
    const ok = checkApplicationScopes('ssh:manage;certificate:revoke,manage', CATALOG);
    assert.ok(ok.ok && printTppScope(ok.scopes) === 'certificate:manage,revoke;ssh:manage');
    const unknown = checkApplicationScopes('certificate:fly;read', CATALOG);
    assert.ok(!unknown.ok && unknown.error === 'not in the scope catalog: certificate:fly;read');
    assert.equal(checkApplicationScopes('a;;b', CATALOG).ok, false);
  });

  test("a request must lie within the application's scopes, restriction by restriction", () => {
    const app = storedTppScope('certificate:manage,revoke;ssh');
    assert.equal(checkRequestedScope('certificate:manage', app).ok, true);
    assert.equal(checkRequestedScope('certificate', app).ok, true);
    const beyond = checkRequestedScope('certificate:discover;ssh:manage', app);
    assert.ok(!beyond.ok && beyond.error === 'the application may not request certificate:discover;ssh:manage');
    assert.equal(checkRequestedScope('', app).ok, false);
  });

  test('a grant is requested ∩ application ∩ user', () => {
    const granted = grantTppScope(storedTppScope('certificate:manage,revoke;ssh:manage'), storedTppScope('certificate:manage,revoke;ssh:manage'), storedTppScope('certificate:manage;admin'));
    assert.equal(printTppScope(granted), 'certificate:manage');
    assert.equal(grantTppScope(storedTppScope('ssh'), storedTppScope('ssh'), storedTppScope('admin')).size, 0);
  });

  test('a stored scope that does not parse grants nothing', () => {
    assert.equal(storedTppScope(';;').size, 0);
  });
});

const token = fc.constantFrom('admin', 'certificate', 'ssh', 'agent', 'x', 'y');
const restriction = fc.constantFrom('manage', 'revoke', 'discover', 'delete', 'viewlogs');
const scopeSet: fc.Arbitrary<TppScopeSet> = fc
  .dictionary(token, fc.array(restriction, { maxLength: 4 }), { maxKeys: 5 })
  .map((d) => normalize(new Map(Object.entries(d))));

describe('properties of a grant', () => {
  test('a grant lies within the request, the application and the user, restriction by restriction', () => {
    fc.assert(
      fc.property(scopeSet, scopeSet, scopeSet, (asked, app, user) => {
        const granted = grantTppScope(asked, app, user);
        assert.ok(tppWithin(granted, asked) && tppWithin(granted, app) && tppWithin(granted, user));
        for (const [name, restrictions] of granted) {
          for (const r of restrictions) {
            for (const side of [asked, app, user]) assert.ok(side.get(name)?.includes(r), `${name}:${r} on every side`);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  test('what a user holds and the application allows is granted in full when asked for', () => {
    fc.assert(
      fc.property(scopeSet, scopeSet, (app, user) => {
        const both = grantTppScope(app, app, user);
        assert.deepEqual([...grantTppScope(both, app, user).entries()], [...both.entries()]);
      }),
      { numRuns: 300 },
    );
  });

  test('a user never holds a TPP scope outside the catalog, whatever the role entries', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 30 }), scopeSet.map(printTppScope)), { maxLength: 8 }), (entries) => {
        assert.ok(tppWithin(userTppScopes(entries, CATALOG), CATALOG));
      }),
      { numRuns: 300 },
    );
  });
});
