// Malformed input, table-driven, against every /api/auth route: broken and wrongly typed JSON,
// bodies over the limit, odd unicode, SQL and regex metacharacters, wrong content types, empty
// bodies, huge numbers, path parameters that are not UUIDs, odd credentials.
//
// For every case: never a 5xx; a 4xx (or a 200 where the input is acceptable, e.g. a GET whose
// body is ignored); always JSON; every 4xx is `{"detail": ...}` (the Python client reads
// `response.json()['detail']` for any 4xx); and a refused request changed nothing.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type InjectOptions } from 'fastify';
import cookie from '@fastify/cookie';
import { blueskyFace, blueskyFrameworkError, ROUTES } from '../../../src/http/faces/bluesky/plugin.ts';
import { apikey, bearer, createKey, faceHarness, loginAs, PREFIX, sessionIdOf, uuidOf, type CreatedKey, type Harness } from './fixtures.ts';

const BODY_LIMIT = 2048;

/** The objects the requests aim at; rebuilt whenever a request was accepted (it may have used them up). */
interface World {
  readonly bobToken: string;
  readonly bobKey: CreatedKey;
  /** Another session of bob's, the target of session revocation. */
  readonly bobOtherSession: string;
  /** A live refresh token (carol's). */
  readonly refreshToken: string;
  readonly aliceId: string;
}

async function buildWorld(h: Harness): Promise<World> {
  const bob = await loginAs(h, 'bob');
  const other = await loginAs(h, 'bob');
  const carol = await loginAs(h, 'carol');
  return {
    bobToken: bob.access_token,
    bobKey: await createKey(h, bearer(bob.access_token)),
    bobOtherSession: sessionIdOf(other.access_token),
    refreshToken: carol.refresh_token,
    aliceId: await uuidOf(h, 'alice'),
  };
}

/** Everything a request could change, minus last-use times (a key is "used" even by a refused request). */
async function snapshot(h: Harness): Promise<string> {
  const all = await h.services.principals.list();
  return JSON.stringify(
    all.map((d) => ({
      principal: d.principal,
      identities: d.identities,
      keys: d.apiKeys.map((k) => ({ ...k, latestActivity: undefined })),
      sessions: d.sessions,
    })),
  );
}

type Method = 'GET' | 'POST' | 'DELETE';

interface Route {
  readonly name: string;
  readonly method: Method;
  /** The route as registered (for the coverage check). */
  readonly pattern: string;
  /** A URL that works, with `param` in place of the path or query parameter if given. */
  readonly url: (w: World, param?: string) => string;
  /** Good credentials for the route. */
  readonly auth: (w: World) => Record<string, string>;
  readonly body: 'json' | 'form' | 'none';
  /** A body that would be accepted. */
  readonly good?: (w: World) => Record<string, unknown>;
  readonly stringFields?: readonly string[];
  readonly stringListFields?: readonly string[];
  readonly numberFields?: readonly string[];
  /** Fields for which null is an accepted value. */
  readonly nullableFields?: readonly string[];
  /** The route has a path or query parameter that `url(w, param)` fills in (raw, already URL-encoded). */
  readonly param?: 'path' | 'query';
}

const ROUTE_TABLE: readonly Route[] = [
  {
    name: 'login',
    method: 'POST',
    pattern: '/provider/:provider/token',
    url: (_w, p) => `${PREFIX}/provider/${p ?? 'local'}/token`,
    auth: () => ({}),
    body: 'form',
    good: () => ({ username: 'bob', password: 'bob_password' }),
    stringFields: ['username', 'password'],
    param: 'path',
  },
  {
    name: 'session-refresh',
    method: 'POST',
    pattern: '/session/refresh',
    url: () => `${PREFIX}/session/refresh`,
    auth: () => ({}),
    body: 'json',
    good: (w) => ({ refresh_token: w.refreshToken }),
    stringFields: ['refresh_token'],
  },
  {
    name: 'session-revoke',
    method: 'DELETE',
    pattern: '/session/revoke/:session_id',
    url: (w, p) => `${PREFIX}/session/revoke/${p ?? w.bobOtherSession}`,
    auth: (w) => bearer(w.bobToken),
    body: 'none',
    param: 'path',
  },
  {
    name: 'apikey-create',
    method: 'POST',
    pattern: '/apikey',
    url: () => `${PREFIX}/apikey`,
    auth: (w) => bearer(w.bobToken),
    body: 'json',
    good: () => ({ expires_in: 3600, scopes: ['read:status'], note: 'ok' }),
    stringFields: ['note'],
    stringListFields: ['scopes'],
    numberFields: ['expires_in'],
    nullableFields: ['note', 'scopes', 'expires_in'],
  },
  {
    name: 'apikey-info',
    method: 'GET',
    pattern: '/apikey',
    url: (w, p) => `${PREFIX}/apikey?api_key=${p ?? w.bobKey.secret}`,
    auth: () => ({}),
    body: 'none',
    param: 'query',
  },
  {
    name: 'apikey-delete',
    method: 'DELETE',
    pattern: '/apikey',
    url: (w, p) => `${PREFIX}/apikey?first_eight=${p ?? w.bobKey.first_eight}`,
    auth: (w) => bearer(w.bobToken),
    body: 'none',
    param: 'query',
  },
  { name: 'whoami', method: 'GET', pattern: '/whoami', url: () => `${PREFIX}/whoami`, auth: (w) => bearer(w.bobToken), body: 'none' },
  { name: 'scopes', method: 'GET', pattern: '/scopes', url: () => `${PREFIX}/scopes`, auth: (w) => bearer(w.bobToken), body: 'none' },
  { name: 'logout', method: 'POST', pattern: '/logout', url: () => `${PREFIX}/logout`, auth: (w) => bearer(w.bobToken), body: 'none' },
  {
    name: 'principals-list',
    method: 'GET',
    pattern: '/principal',
    url: (_w, p) => `${PREFIX}/principal${p === undefined ? '' : `?limit=${p}`}`,
    auth: (w) => bearer(w.bobToken),
    body: 'none',
    param: 'query',
  },
  {
    name: 'principal-get',
    method: 'GET',
    pattern: '/principal/:uuid',
    url: (w, p) => `${PREFIX}/principal/${p ?? w.aliceId}`,
    auth: (w) => bearer(w.bobToken),
    body: 'none',
    param: 'path',
  },
  {
    name: 'principal-apikey',
    method: 'POST',
    pattern: '/principal/:uuid/apikey',
    url: (w, p) => `${PREFIX}/principal/${p ?? w.aliceId}/apikey`,
    auth: (w) => bearer(w.bobToken),
    body: 'json',
    good: () => ({ scopes: ['read:status'], note: 'minted' }),
    stringFields: ['note'],
    stringListFields: ['scopes'],
    numberFields: ['expires_in'],
    nullableFields: ['note', 'scopes', 'expires_in'],
    param: 'path',
  },
];

/** Strings that have broken servers before. */
const ODD_STRINGS: readonly (readonly [string, string])[] = [
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', 'a\udc00b'],
  ['NUL', 'a\u0000b'],
  ['a right-to-left override', '\u202eevil'],
  ['emoji with modifiers and joiners', '😀👍🏽‍👩‍👩‍👧'],
  ['a BOM and zero-width characters', '\ufeff\u200b\u200d'],
  ['1,500 characters', 'x'.repeat(1500)],
  ['10,000 characters', 'y'.repeat(10000)],
  ['SQL: OR 1=1', "' OR 1=1 --"],
  ['SQL: DROP TABLE', "'; DROP TABLE principals; --"],
  ['SQL: double quotes', '" OR ""="'],
  ['regex: wildcard', '.*'],
  ['regex: catastrophic backtracking', '^(a+)+$'],
  ['regex: unclosed group and class', '[(?<'],
  ['backslashes', '\\\\x00\\'],
  ['LIKE wildcards', '%_%'],
  ['empty', ''],
  ['whitespace only', ' \t\r\n '],
];

/** JSON values of the wrong type for a string field (raw JSON text). */
const WRONG_TYPES: readonly (readonly [string, string])[] = [
  ['a number', '5'],
  ['a number too big for a double', '1e309'],
  ['a list', '["a"]'],
  ['an object', '{"a": 1}'],
  ['null', 'null'],
  ['a boolean', 'true'],
];

/** Raw JSON numbers (and non-numbers) for a numeric field. */
const NUMBERS: readonly (readonly [string, string])[] = [
  ['1e309', '1e309'],
  ['-1e309', '-1e309'],
  ['-1', '-1'],
  ['1e20', '1e20'],
  ['1.5', '1.5'],
  ['2^53 + 1', '9007199254740993'],
  ['-0', '-0'],
  ['a numeric string', '"3600"'],
  ['a list', '[3600]'],
  ['an object', '{"seconds": 3600}'],
];

/** Whole bodies: broken JSON and JSON of the wrong shape. */
const WHOLE_BODIES: readonly (readonly [string, string])[] = [
  ['truncated JSON', '{"a":'],
  ['an unclosed object', '{'],
  ['trailing garbage', '{"a": 1}}'],
  ['single quotes', "{'a': 1}"],
  ['a bare word', 'nul'],
  ['NaN', '{"a": NaN}'],
  ['a number', '5'],
  ['a huge number', '1e309'],
  ['a string', '"text"'],
  ['an empty list', '[]'],
  ['a list of numbers', '[1, 2]'],
  ['null', 'null'],
  ['a boolean', 'true'],
  ['an empty object', '{}'],
  ['prototype pollution', '{"__proto__": {"admin": true}, "constructor": {"prototype": {"admin": true}}}'],
  ['a lone surrogate escaped as a key', '{"\\ud800": "\\udfff"}'],
  ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
];

/** Content types the routes do not speak (the body is JSON text). */
const CONTENT_TYPES: readonly string[] = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  'image/png',
];

/** Path segments that are not what the route expects (already URL-encoded). */
const PATH_VALUES: readonly (readonly [string, string])[] = [
  ['not a UUID', 'not-a-uuid'],
  ['a UUID with a tail', '00000000-0000-4000-8000-000000000000x'],
  ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
  ['SQL', encodeURIComponent("' OR 1=1 --")],
  ['a regex', encodeURIComponent('.*')],
  ['NUL', '%00'],
  ['a right-to-left override', '%E2%80%AE'],
  ['an emoji', '%F0%9F%98%80'],
  ['an encoded slash', 'a%2Fb'],
  ['dot-dot', '..'],
  ['an encoded dot-dot', '%2E%2E'],
  ['a space', '%20'],
  ['400 characters', 'z'.repeat(400)],
];

/** Query values that are not what the route expects (already URL-encoded). */
const QUERY_VALUES: readonly (readonly [string, string])[] = [
  ['empty', ''],
  ['SQL', encodeURIComponent("' OR 1=1 --")],
  ['a regex', encodeURIComponent('^(a+)+$')],
  ['NUL', '%00'],
  ['a broken escape', '%zz'],
  ['a lone percent sign', '%'],
  ['an encoded lone surrogate', '%ED%A0%80'],
  ['a right-to-left override', '%E2%80%AE'],
  ['1e309', '1e309'],
  ['-1', '-1'],
  ['a 30-digit number', '9'.repeat(30)],
  ['10,000 characters', 'q'.repeat(10000)],
  ['repeated', 'aaaaaaaa&first_eight=bbbbbbbb&limit=2&api_key=cc'],
];

/** Credentials that are not credentials. */
const ODD_CREDENTIALS: readonly (readonly [string, Record<string, string>])[] = [
  ['a 10,000-character bearer token', bearer('t'.repeat(10000))],
  ['a bearer token of dots', bearer('...')],
  ['a JWT with alg none', bearer(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x","type":"access"}').toString('base64url')}.`)],
  ['an API key with SQL', apikey("' OR 1=1 --")],
  ['an API key of 72 non-hex characters', apikey('g'.repeat(72))],
  ['an API key of 10,000 hex characters', apikey('a'.repeat(10000))],
  ['an unknown scheme', { authorization: 'Negotiate abc' }],
  ['a scheme without a secret', { authorization: 'Apikey' }],
  ['a cookie key with SQL', { cookie: `bluesky_httpserver_api_key=${encodeURIComponent("' OR 1=1 --")}` }],
];

/** A JSON body: the good one with one field replaced by raw JSON text. */
function withField(good: Record<string, unknown>, field: string, raw: string): string {
  const rest = JSON.stringify(Object.fromEntries(Object.entries(good).filter(([k]) => k !== field)));
  return rest === '{}' ? `{${JSON.stringify(field)}: ${raw}}` : `${rest.slice(0, -1)}, ${JSON.stringify(field)}: ${raw}}`;
}

interface Case {
  readonly label: string;
  readonly build: (w: World) => InjectOptions;
  /** Statuses this case must answer with, when it is that precise. */
  readonly expect?: readonly number[];
}

function casesFor(route: Route): Case[] {
  const cases: Case[] = [];
  const request = (w: World, extra: Partial<InjectOptions> & { param?: string } = {}): InjectOptions => {
    const { param, headers, ...rest } = extra;
    return { method: route.method, url: route.url(w, param), ...rest, headers: { ...route.auth(w), ...(headers as Record<string, string> | undefined) } };
  };
  const json = (payload: string) => ({ payload, headers: { 'content-type': 'application/json' } });
  const parsesBody = route.method !== 'GET';

  for (const [label, payload] of WHOLE_BODIES) {
    cases.push({ label: `body: ${label}`, build: (w) => request(w, json(payload)) });
  }
  for (const [label, payload] of WHOLE_BODIES.slice(0, 2)) {
    cases.push({
      label: `body: ${label}, without credentials`,
      build: (w) => ({ method: route.method, url: route.url(w), ...json(payload) }),
      ...(parsesBody ? { expect: [422] } : {}),
    });
  }
  cases.push({
    label: `body: over the ${BODY_LIMIT}-byte limit`,
    build: (w) => request(w, json(JSON.stringify({ note: 'n'.repeat(BODY_LIMIT * 2) }))),
    ...(parsesBody ? { expect: [413] } : {}),
  });
  cases.push({
    label: 'body: over the limit, as a form',
    build: (w) => request(w, { payload: `username=${'u'.repeat(BODY_LIMIT * 2)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ...(parsesBody ? { expect: [413] } : {}),
  });
  for (const type of CONTENT_TYPES) {
    // a JSON route reads JSON only: a good body under another content type is refused
    const refused = route.body === 'json' && !type.startsWith('application/json');
    cases.push({
      label: `content type: ${type}`,
      build: (w) => request(w, { payload: JSON.stringify(route.good ? route.good(w) : {}), headers: { 'content-type': type } }),
      ...(refused ? { expect: [415, 422] } : {}),
    });
  }
  cases.push({ label: 'body: empty with a JSON content type', build: (w) => request(w, json('')) });
  cases.push({
    label: 'body: empty with a form content type',
    build: (w) => request(w, { payload: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ...(route.body === 'json' ? { expect: [422] } : {}),
  });
  cases.push({ label: 'body: none at all', build: (w) => request(w) });
  cases.push({ label: 'body: form with broken escapes', build: (w) => request(w, { payload: 'username=%zz&password=%', headers: { 'content-type': 'application/x-www-form-urlencoded' } }) });

  const good = route.good;
  // Field cases go as JSON, which the form route reads too; the form route also gets them as a form.
  const encode = (w: World, field: string, raw: string): Partial<InjectOptions> => json(withField(good ? good(w) : {}, field, raw));
  for (const field of route.stringFields ?? []) {
    for (const [label, value] of ODD_STRINGS) {
      if (route.body === 'form') {
        cases.push({
          label: `form field ${field}: ${label}`,
          build: (w) => {
            const fields = { ...(good ? good(w) : {}), [field]: value } as Record<string, string>;
            return request(w, { payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
          },
        });
      }
      cases.push({ label: `field ${field}: ${label}`, build: (w) => request(w, encode(w, field, JSON.stringify(value))) });
    }
    for (const [label, raw] of WRONG_TYPES) {
      // null is a value for the nullable fields (note); for the others it is the wrong type
      const expect = raw === 'null' && route.nullableFields?.includes(field) ? [200] : [422];
      cases.push({ label: `field ${field}: ${label}`, build: (w) => request(w, encode(w, field, raw)), expect });
    }
  }
  for (const field of route.stringListFields ?? []) {
    for (const [label, value] of ODD_STRINGS) {
      cases.push({ label: `list field ${field}: ${label}`, build: (w) => request(w, encode(w, field, JSON.stringify([value]))) });
    }
    for (const [label, raw] of [...WRONG_TYPES, ['a list of numbers', '[1, 2]'], ['a list of lists', '[["read:status"]]'], ['5,000 scopes', JSON.stringify(Array(5000).fill('read:status'))]] as const) {
      cases.push({ label: `list field ${field}: ${label}`, build: (w) => request(w, encode(w, field, raw)) });
    }
  }
  for (const field of route.numberFields ?? []) {
    for (const [label, raw] of NUMBERS) {
      cases.push({ label: `number field ${field}: ${label}`, build: (w) => request(w, encode(w, field, raw)) });
    }
  }
  if (route.param === 'path') {
    for (const [label, value] of PATH_VALUES) {
      cases.push({ label: `path parameter: ${label}`, build: (w) => request(w, { param: value, ...(good ? json(JSON.stringify(good(w))) : {}) }) });
    }
  }
  if (route.param === 'query') {
    for (const [label, value] of QUERY_VALUES) {
      cases.push({ label: `query parameter: ${label}`, build: (w) => request(w, { param: value }) });
    }
  }
  for (const [label, headers] of ODD_CREDENTIALS) {
    cases.push({ label: `credentials: ${label}`, build: (w) => ({ ...request(w, good ? json(JSON.stringify(good(w))) : {}), headers }) });
  }
  cases.push({ label: 'query: odd api_key next to good credentials', build: (w) => request(w, { url: `${route.url(w)}${route.url(w).includes('?') ? '&' : '?'}api_key=${encodeURIComponent("' OR 1=1 --")}` }) });
  return cases;
}

describe('malformed input on every /api/auth route', () => {
  let h: Harness;
  let world: World;

  before(async () => {
    h = await faceHarness({ bodyLimit: BODY_LIMIT });
    world = await buildWorld(h);
  });
  after(async () => h.close());

  test('the table covers every route of the face', () => {
    assert.equal(ROUTE_TABLE.length, ROUTES.length);
    for (const route of ROUTE_TABLE) {
      assert.ok(h.app.hasRoute({ method: route.method, url: `${PREFIX}${route.pattern}` }), `${route.method} ${route.pattern}`);
    }
  });

  for (const route of ROUTE_TABLE) {
    describe(`${route.method} ${route.pattern} (${route.name})`, () => {
      for (const c of casesFor(route)) {
        test(c.label, async () => {
          const before = await snapshot(h);
          const res = await h.app.inject(c.build(world));
          assert.ok(res.statusCode < 500, `no 5xx (got ${res.statusCode}: ${res.body.slice(0, 300)})`);
          assert.ok(res.statusCode === 200 || (res.statusCode >= 400 && res.statusCode < 500), `200 or 4xx (got ${res.statusCode})`);
          if (c.expect) assert.ok(c.expect.includes(res.statusCode), `expected ${c.expect.join(' or ')}, got ${res.statusCode}: ${res.body.slice(0, 300)}`);
          assert.match(String(res.headers['content-type']), /^application\/json/);
          const body: unknown = JSON.parse(res.body);
          if (res.statusCode >= 400) {
            assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), 'an object');
            assert.deepEqual(Object.keys(body), ['detail'], `a {"detail": ...} body, got ${res.body.slice(0, 300)}`);
            assert.equal(await snapshot(h), before, 'a refused request changed nothing');
          } else {
            world = await buildWorld(h); // an accepted request may have used up what the next ones aim at
          }
        });
      }
    });
  }

  describe('URLs the HTTP server refuses before routing', () => {
    // Invalid percent-encoding and over-long path parameters never reach a route: the server
    // answers them itself. They must still be client errors in JSON, with nothing changed.
    const cases: readonly (readonly [string, Method, (w: World) => string, number])[] = [
      ['a broken escape in a session id', 'DELETE', () => `${PREFIX}/session/revoke/%zz`, 400],
      ['a lone percent sign in a principal id', 'GET', () => `${PREFIX}/principal/%`, 400],
      ['an encoded lone surrogate in a principal id', 'POST', () => `${PREFIX}/principal/%ED%A0%80/apikey`, 400],
      ['overlong UTF-8 in a provider name', 'POST', () => `${PREFIX}/provider/%C0%AF/token`, 400],
      ['a 10,000-character session id', 'DELETE', () => `${PREFIX}/session/revoke/${'s'.repeat(10000)}`, 414],
      ['a 10,000-character principal id', 'GET', () => `${PREFIX}/principal/${'p'.repeat(10000)}`, 414],
    ];
    for (const [label, method, url, status] of cases) {
      test(label, async () => {
        const before = await snapshot(h);
        const res = await h.app.inject({ method, url: url(world), headers: bearer(world.bobToken) });
        assert.equal(res.statusCode, status);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        assert.doesNotThrow(() => JSON.parse(res.body));
        assert.equal(await snapshot(h), before);
      });
    }

    test("with the face's handler as the server's frameworkErrors, these answer {\"detail\": ...}", async () => {
      const server = Fastify({
        routerOptions: { maxParamLength: 500 },
        frameworkErrors: (error, _request, reply) => {
          blueskyFrameworkError(error, reply);
        },
      });
      server.decorate('services', h.services);
      server.decorateRequest('auth', undefined);
      try {
        await server.register(cookie);
        await server.register(blueskyFace, { prefix: PREFIX });
        for (const [label, method, url, status] of cases) {
          const res = await server.inject({ method, url: url(world), headers: bearer(world.bobToken) });
          assert.equal(res.statusCode, status, label);
          assert.deepEqual(Object.keys(res.json<object>()), ['detail'], label);
        }
      } finally {
        await server.close();
      }
    });
  });
});
