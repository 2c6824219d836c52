// Malformed input, table-driven, against the five routes of the face: broken and wrongly typed
// JSON, bodies over the limit, wrong content types, odd unicode, SQL and regex metacharacters,
// odd credentials and query strings.
//
// For every case: never a 5xx; a 2xx (where the input is acceptable, e.g. a GET whose body is
// ignored) or a 4xx; always JSON; every 4xx is `{"error", "error_description"}`; and a refused
// request changed nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { ROUTES } from '../../../src/http/faces/venafi/plugin.ts';
import { authorizeAs, bearer, venafiHarness, type Harness } from './fixtures.ts';

const BODY_LIMIT = 2048;

/** What the requests aim at; rebuilt after an accepted request (it may have used them up). */
interface World {
  /** walt's token (certificate scopes) for verify. */
  readonly access: string;
  /** vera's admin token for getscopes. */
  readonly admin: string;
  /** A token whose grant revoke may end. */
  readonly victim: string;
  readonly refreshToken: string;
}

async function buildWorld(h: Harness): Promise<World> {
  const walt = await authorizeAs(h, 'walt', 'vcert-cli', 'certificate:manage');
  const vera = await authorizeAs(h, 'vera', 'admin-tool', 'admin');
  const victim = await authorizeAs(h, 'cora', 'vcert-cli', 'certificate');
  return { access: walt.access_token, admin: vera.access_token, victim: victim.access_token, refreshToken: walt.refresh_token ?? '' };
}

/** Everything a request could change: principals, grants and their tokens, applications. */
async function snapshot(h: Harness): Promise<string> {
  // refresh counters and last-use times land in batches, on a timer: written before each look,
  // so one landing between two looks is not taken for a change
  await h.services.sessionActivity.flush();
  await h.services.activity.flush({ all: true });
  const store = h.services.store;
  const principals = await store.listPrincipals();
  const grants = [];
  for (const p of principals) {
    for (const s of await store.listSessions(p.id)) {
      grants.push({ s, refresh: await store.listRefreshTokens(s.id), access: await store.listAccessTokens(s.id) });
    }
  }
  return JSON.stringify({ principals, grants, applications: await store.listApplications(), catalog: await store.getScopeCatalog() });
}

interface Route {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly auth: (w: World) => Record<string, string>;
  /** A JSON body that would be accepted; none for the GETs. */
  readonly good?: (w: World) => Record<string, unknown>;
  readonly stringFields?: readonly string[];
}

const ROUTE_TABLE: readonly Route[] = [
  {
    name: 'authorize',
    method: 'POST',
    url: '/vedauth/authorize/oauth',
    auth: () => ({}),
    good: () => ({ client_id: 'vcert-cli', username: 'walt', password: 'walt_password', scope: 'certificate:manage', state: '' }),
    stringFields: ['client_id', 'username', 'password', 'scope', 'state'],
  },
  {
    name: 'token',
    method: 'POST',
    url: '/vedauth/authorize/token',
    auth: () => ({}),
    good: (w) => ({ client_id: 'vcert-cli', refresh_token: w.refreshToken }),
    stringFields: ['client_id', 'refresh_token'],
  },
  { name: 'verify', method: 'GET', url: '/vedauth/authorize/verify', auth: (w) => bearer(w.access) },
  { name: 'revoke', method: 'GET', url: '/vedauth/revoke/token', auth: (w) => bearer(w.victim) },
  { name: 'getscopes', method: 'POST', url: '/vedsdk/oauth/getscopes', auth: (w) => bearer(w.admin), good: () => ({}) },
];

const ODD_STRINGS: readonly (readonly [string, string])[] = [
  ['a lone high surrogate', '\ud800'],
  ['NUL', 'a\u0000b'],
  ['a right-to-left override', '\u202eevil'],
  ['emoji with joiners', '😀👍🏽‍👩‍👩‍👧'],
  ['a BOM and zero-width characters', '\ufeff\u200b\u200d'],
  ['1,500 characters', 'x'.repeat(1500)],
  ['SQL: OR 1=1', "' OR 1=1 --"],
  ['SQL: DROP TABLE', "'; DROP TABLE sessions; --"],
  ['regex: catastrophic backtracking', '^(a+)+$'],
  ['regex: unclosed group', '[(?<'],
  ['LIKE wildcards', '%_%'],
  ['empty', ''],
  ['whitespace only', ' \t\r\n '],
  ['a TPP scope of many parts', 'certificate:manage;'.repeat(100)],
];

const WRONG_TYPES: readonly (readonly [string, string])[] = [
  ['a number', '5'],
  ['a number too big for a double', '1e309'],
  ['a list', '["a"]'],
  ['an object', '{"a": 1}'],
  ['null', 'null'],
  ['a boolean', 'true'],
];

const WHOLE_BODIES: readonly (readonly [string, string])[] = [
  ['truncated JSON', '{"a":'],
  ['an unclosed object', '{'],
  ['trailing garbage', '{"a": 1}}'],
  ['single quotes', "{'a': 1}"],
  ['NaN', '{"a": NaN}'],
  ['a number', '5'],
  ['a string', '"text"'],
  ['an empty list', '[]'],
  ['null', 'null'],
  ['an empty object', '{}'],
  ['prototype pollution', '{"__proto__": {"admin": true}, "constructor": {"prototype": {"admin": true}}}'],
  ['a lone surrogate escaped as a key', '{"\\ud800": "\\udfff"}'],
  ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
];

const CONTENT_TYPES: readonly string[] = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'application/vnd.api+json',
];

const ODD_CREDENTIALS: readonly (readonly [string, Record<string, string>])[] = [
  ['a 10,000-character bearer token', bearer('t'.repeat(10000))],
  ['a bearer token of dots', bearer('...')],
  ['a JWT with alg none', bearer(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`)],
  ['a bearer token with SQL', bearer("' OR 1=1 --")],
  ['a bearer token with NUL', bearer('a%00b')],
  ['an unknown scheme', { authorization: 'Negotiate abc' }],
  ['Basic credentials', { authorization: `Basic ${Buffer.from('walt:walt_password').toString('base64')}` }],
  ['an empty header', { authorization: '' }],
];

const QUERIES: readonly string[] = ['?client_id=x', '?%zz', '?a=%ED%A0%80', `?q=${'q'.repeat(5000)}`, '?access_token=abc&refresh_token=def'];

function withField(good: Record<string, unknown>, field: string, raw: string): string {
  const rest = JSON.stringify(Object.fromEntries(Object.entries(good).filter(([k]) => k !== field)));
  return rest === '{}' ? `{${JSON.stringify(field)}: ${raw}}` : `${rest.slice(0, -1)}, ${JSON.stringify(field)}: ${raw}}`;
}

interface Case {
  readonly label: string;
  readonly build: (w: World) => InjectOptions;
  readonly expect?: readonly number[];
}

function casesFor(route: Route): Case[] {
  const cases: Case[] = [];
  const request = (w: World, extra: Partial<InjectOptions> = {}): InjectOptions => {
    const { headers, ...rest } = extra;
    return { method: route.method, url: route.url, ...rest, headers: { ...route.auth(w), ...(headers as Record<string, string> | undefined) } };
  };
  const json = (payload: string) => ({ payload, headers: { 'content-type': 'application/json' } });
  const post = route.method === 'POST';
  const good = route.good;

  for (const [label, payload] of WHOLE_BODIES) {
    const acceptable = !post || (route.name === 'getscopes' && payload.startsWith('{'));
    const limit = payload.length > BODY_LIMIT ? [413] : [];
    cases.push({ label: `body: ${label}`, build: (w) => request(w, json(payload)), ...(acceptable ? {} : { expect: [400, ...limit] }) });
  }
  cases.push({
    label: `body: over the ${BODY_LIMIT}-byte limit`,
    build: (w) => request(w, json(JSON.stringify({ note: 'n'.repeat(BODY_LIMIT * 2) }))),
    ...(post ? { expect: [413] } : {}),
  });
  for (const type of CONTENT_TYPES) {
    cases.push({
      label: `content type: ${type}`,
      build: (w) => request(w, { payload: JSON.stringify(good ? good(w) : {}), headers: { 'content-type': type } }),
      ...(post ? { expect: [400] } : {}),
    });
  }
  cases.push({ label: 'body: empty with a JSON content type', build: (w) => request(w, json('')) });
  cases.push({ label: 'body: none at all', build: (w) => request(w) });
  for (const field of route.stringFields ?? []) {
    for (const [label, value] of ODD_STRINGS) {
      cases.push({ label: `field ${field}: ${label}`, build: (w) => request(w, json(withField(good ? good(w) : {}, field, JSON.stringify(value)))) });
    }
    for (const [label, raw] of WRONG_TYPES) {
      cases.push({ label: `field ${field}: ${label}`, build: (w) => request(w, json(withField(good ? good(w) : {}, field, raw))), expect: [400] });
    }
  }
  for (const [label, headers] of ODD_CREDENTIALS) {
    const needsToken = route.auth({ access: 'a', admin: 'a', victim: 'a', refreshToken: 'r' }).authorization !== undefined;
    cases.push({
      label: `credentials: ${label}`,
      build: (w) => ({ ...request(w, good ? json(JSON.stringify(good(w))) : {}), headers: { ...headers, ...(good ? { 'content-type': 'application/json' } : {}) } }),
      ...(needsToken ? { expect: [401] } : {}),
    });
  }
  for (const query of QUERIES) {
    cases.push({ label: `query: ${query.slice(0, 40)}`, build: (w) => request(w, { url: `${route.url}${query}`, ...(good ? json(JSON.stringify(good(w))) : {}) }) });
  }
  return cases;
}

describe('malformed input on every Venafi route', () => {
  let h: Harness;
  let world: World;

  before(async () => {
    h = await venafiHarness({ bodyLimit: BODY_LIMIT });
    world = await buildWorld(h);
  });
  after(async () => h.close());

  test('the table covers every route of the face', () => {
    const registered = Object.values(ROUTES).flat().length;
    assert.equal(ROUTE_TABLE.length, registered);
    for (const route of ROUTE_TABLE) assert.ok(h.app.hasRoute({ method: route.method, url: route.url }), `${route.method} ${route.url}`);
  });

  for (const route of ROUTE_TABLE) {
    describe(`${route.method} ${route.url} (${route.name})`, () => {
      for (const c of casesFor(route)) {
        test(c.label, async () => {
          const before = await snapshot(h);
          const res = await h.app.inject(c.build(world));
          assert.ok(res.statusCode < 500, `no 5xx (got ${res.statusCode}: ${res.body.slice(0, 300)})`);
          assert.ok(res.statusCode < 300 || (res.statusCode >= 400 && res.statusCode < 500), `2xx or 4xx (got ${res.statusCode})`);
          if (c.expect) assert.ok(c.expect.includes(res.statusCode), `expected ${c.expect.join(' or ')}, got ${res.statusCode}: ${res.body.slice(0, 300)}`);
          assert.match(String(res.headers['content-type']), /^application\/json/);
          const body: unknown = JSON.parse(res.body);
          if (res.statusCode >= 400) {
            assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), 'an object');
            assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], `an OAuth error body, got ${res.body.slice(0, 300)}`);
            assert.equal(await snapshot(h), before, 'a refused request changed nothing');
          } else {
            world = await buildWorld(h); // an accepted request may have used up what the next ones aim at
          }
        });
      }
    });
  }

  describe('URLs the HTTP server refuses before routing', () => {
    for (const [method, url] of [
      ['POST', '/vedauth/authorize/%zz'],
      ['GET', '/vedauth/%'],
      ['POST', '/vedsdk/oauth/%ED%A0%80'],
      ['GET', '/VedAuth/Authorize/%C0%AF'],
    ] as const) {
      test(`${method} ${url}: 400 in this face's format`, async () => {
        const before = await snapshot(h);
        const res = await h.app.inject({ method, url, headers: bearer(world.access) });
        assert.equal(res.statusCode, 400, res.body);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        assert.deepEqual(Object.keys(res.json<object>()).sort(), ['error', 'error_description']);
        assert.equal(res.headers['cache-control'], 'no-store');
        assert.equal(await snapshot(h), before);
      });
    }
  });
});
