import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  normalize,
  parseTppScope,
  printTppScope,
  tppIntersect,
  tppMissing,
  tppUnion,
  tppWithin,
  type TppScopeSet,
} from '../../src/core/tpp-scope.ts';

function parsed(text: string): TppScopeSet {
  const result = parseTppScope(text);
  if (!result.ok) throw new Error(result.error);
  return result.scopes;
}

const token = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,9}$/);
const scopeSet: fc.Arbitrary<TppScopeSet> = fc
  .dictionary(token, fc.array(token, { maxLength: 5 }), { maxKeys: 6 })
  .map((d) => normalize(new Map(Object.entries(d))));

describe('TPP scope grammar', () => {
  test('parses, sorts, dedupes and prints without ":" when a scope has no restrictions', () => {
    const s = parsed('ssh:manage;certificate:revoke,manage,revoke;admin;');
    assert.deepEqual([...s.entries()], [
      ['admin', []],
      ['certificate', ['manage', 'revoke']],
      ['ssh', ['manage']],
    ]);
    assert.equal(printTppScope(s), 'admin;certificate:manage,revoke;ssh:manage');
  });

  test('merges a scope named twice and treats "name:" as no restrictions', () => {
    assert.equal(printTppScope(parsed('certificate:manage;certificate:discover;ssh:')), 'certificate:discover,manage;ssh');
  });

  test('reports clear errors', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['  ;', /empty/],
      ['certificate;;ssh', /part 2 is empty/],
      ['certi ficate', /not a valid scope name/],
      ['certificate:man age', /not a valid restriction of scope "certificate"/],
      ['certificate:manage,,revoke', /not a valid restriction/],
      ["admin' OR 1=1", /not a valid scope name/],
      ['x'.repeat(5000), /longer than/],
    ];
    for (const [input, message] of cases) {
      const result = parseTppScope(input);
      assert.equal(result.ok, false, input);
      if (!result.ok) assert.match(result.error, message, input);
    }
  });

  test('within compares restriction by restriction', () => {
    const granted = parsed('certificate:manage,revoke;ssh');
    assert.equal(tppWithin(parsed('certificate:manage'), granted), true);
    assert.equal(tppWithin(parsed('certificate'), granted), true);
    assert.equal(tppWithin(parsed('certificate:discover'), granted), false);
    assert.equal(tppWithin(parsed('ssh:manage'), granted), false);
    assert.equal(tppWithin(parsed('admin'), granted), false);
  });

  test('missing names what is not granted', () => {
    assert.equal(
      printTppScope(tppMissing(parsed('certificate:manage,discover;admin;ssh'), parsed('certificate:manage;ssh:manage'))),
      'admin;certificate:discover',
    );
  });

  test('property: parse∘print is the identity on normalized scope sets', () => {
    fc.assert(
      fc.property(scopeSet.filter((s) => s.size > 0), (s) => {
        const text = printTppScope(s);
        const again = parsed(text);
        assert.deepEqual([...again.entries()], [...s.entries()]);
        assert.equal(printTppScope(again), text);
      }),
      { numRuns: 500 },
    );
  });

  test('property: intersection never grants a restriction absent from either side', () => {
    fc.assert(
      fc.property(scopeSet, scopeSet, (a, b) => {
        const both = tppIntersect(a, b);
        for (const [name, restrictions] of both) {
          const inA = a.get(name);
          const inB = b.get(name);
          assert.ok(inA && inB, `scope ${name} must be on both sides`);
          for (const r of restrictions) assert.ok(inA.includes(r) && inB.includes(r), `${name}:${r}`);
        }
        assert.ok(tppWithin(both, a) && tppWithin(both, b));
        assert.deepEqual([...tppIntersect(a, b).entries()], [...tppIntersect(b, a).entries()]);
      }),
      { numRuns: 500 },
    );
  });

  test('property: a union covers each side and within is reflexive', () => {
    fc.assert(
      fc.property(scopeSet, scopeSet, (a, b) => {
        const u = tppUnion(a, b);
        assert.ok(tppWithin(a, u) && tppWithin(b, u) && tppWithin(a, a));
        assert.equal(tppMissing(a, u).size, 0);
      }),
      { numRuns: 300 },
    );
  });
});
