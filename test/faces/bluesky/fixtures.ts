// Fixtures shared by the Bluesky face tests: a policy with one user per situation, request
// helpers, the exact wire strings clients match on, and the common credential checks every
// protected route must pass.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { apikey, bearer, harness, login, type Harness, type Tokens } from '../../helpers.ts';
import type { Config } from '../../../src/config.ts';

export { apikey, bearer, login, type Harness, type Tokens };

/**
 * bob: admin + expert (the documented example); alice: user; carol: observer;
 * dave: a role without `user:apikeys`; erin: user (a second ordinary user); nobody: no roles.
 */
export const FACE_BUNDLE = `
roles:
  - { name: viewer, scopes: [read:status] }
users:
  - { username: bob, password: bob_password, email: bob@example.org, roles: [admin, expert] }
  - { username: alice, password: alice_password, roles: [user] }
  - { username: carol, password: carol_password, roles: [observer] }
  - { username: dave, password: dave_password, roles: [viewer] }
  - { username: erin, password: erin_password, roles: [user] }
  - { username: nobody, password: nobody_password, roles: [] }
`;

export const PASSWORDS: Readonly<Record<string, string>> = {
  bob: 'bob_password',
  alice: 'alice_password',
  carol: 'carol_password',
  dave: 'dave_password',
  erin: 'erin_password',
  nobody: 'nobody_password',
};

export const PREFIX = '/api/auth';

/** The strings the original server answers with (reference/bluesky.md). */
export const WIRE = {
  expired: 'Access token has expired. Refresh token.',
  invalidKey: 'Invalid API key',
  sessionExpired: 'Session has expired. Please re-authenticate.',
  badLogin: 'Incorrect username or password',
  notAuthorized: 'User is not authorized to access the server',
  permissionsRevoked: 'Permissions for the user are revoked. Please contact the administrator.',
  badToken: 'Could not validate credentials',
  notAuthenticated: 'Not authenticated',
  noApiKey: 'No API key was provided with this request.',
  noSuchKey: 'The currently-authenticated user has no such API key.',
  foreignSession: 'Sessions does not exist or requester has insufficient permissions',
  badScheme:
    "Authorization header must include the authorization type followed by a space and then the secret, as in 'Bearer SECRET' or 'Apikey SECRET'. ",
} as const;

const READS = [
  'read:config',
  'read:console',
  'read:history',
  'read:lock',
  'read:monitor',
  'read:queue',
  'read:resources',
  'read:status',
  'read:testing',
];

/** Sorted scopes of the built-in roles, written out so the tests do not lean on the code under test. */
export const SCOPES = {
  observer: [...READS, 'user:apikeys'].sort(),
  user: [
    ...READS,
    'user:apikeys',
    'write:execute',
    'write:history:edit',
    'write:manager:control',
    'write:plan:control',
    'write:queue:control',
    'write:queue:edit',
  ].sort(),
  viewer: ['read:status'],
} as const;

/** Python's repr() of a list of plain strings: how the original prints scope lists. */
export function py(values: readonly string[]): string {
  return `[${values.map((v) => `'${v}'`).join(', ')}]`;
}

export function notEnough(required: readonly string[], had: readonly string[]): string {
  return `Not enough permissions. Requires scopes ${py(required)}. Request had scopes ${py(had)}`;
}

export function notSubset(requested: readonly string[], allowed: readonly string[]): string {
  return `Requested scopes ${py(requested)} must be a subset of the allowed principal's scopes ${py(allowed)}.`;
}

/** The default window in which a used refresh token still refreshes (concurrent refreshes). */
export const REUSE_GRACE_MS = 10_000;

export async function faceHarness(config: Partial<Config> = {}): Promise<Harness> {
  return harness({ bundle: FACE_BUNDLE, config });
}

export async function loginAs(h: Harness, username: string): Promise<Tokens> {
  const password = PASSWORDS[username];
  if (password === undefined) throw new Error(`no password for ${username}`);
  return login(h.app, username, password);
}

export function send(h: Harness, options: InjectOptions): Promise<LightMyRequestResponse> {
  return h.app.inject(options);
}

export function form(fields: Record<string, string>): { payload: string; headers: Record<string, string> } {
  return {
    payload: new URLSearchParams(fields).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

/** Asserts the exact status and the exact `{"detail": ...}` body. */
export function assertDetail(res: LightMyRequestResponse, status: number, detail: unknown): void {
  assert.equal(res.statusCode, status, `status (body: ${res.body})`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(res.json(), { detail });
}

/** Asserts a FastAPI-style validation error (422) that names `loc`. */
export function assertValidation(res: LightMyRequestResponse, loc: readonly (string | number)[]): void {
  assert.equal(res.statusCode, 422, `status (body: ${res.body})`);
  const body = res.json<{ detail: { loc: unknown[]; msg: unknown; type: unknown }[] }>();
  assert.deepEqual(Object.keys(body), ['detail']);
  assert.ok(Array.isArray(body.detail) && body.detail.length > 0, 'detail is a non-empty list');
  for (const item of body.detail) {
    assert.equal(typeof item.msg, 'string');
    assert.equal(typeof item.type, 'string');
    assert.ok(Array.isArray(item.loc));
  }
  assert.ok(
    body.detail.some((item) => JSON.stringify(item.loc) === JSON.stringify(loc)),
    `one issue at ${JSON.stringify(loc)} in ${res.body}`,
  );
}

export interface CreatedKey {
  first_eight: string;
  expiration_time: string | null;
  note: string | null;
  scopes: string[];
  latest_activity: string | null;
  secret: string;
}

export async function createKey(
  h: Harness,
  headers: Record<string, string>,
  body: Record<string, unknown> = {},
): Promise<CreatedKey> {
  const res = await send(h, { method: 'POST', url: `${PREFIX}/apikey`, headers, payload: body });
  assert.equal(res.statusCode, 200, `key creation: ${res.body}`);
  return res.json<CreatedKey>();
}

export async function scopesOf(h: Harness, headers: Record<string, string>): Promise<{ roles: string[]; scopes: string[] }> {
  const res = await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers });
  assert.equal(res.statusCode, 200, `scopes: ${res.body}`);
  return res.json();
}

export async function uuidOf(h: Harness, username: string): Promise<string> {
  return (await h.services.users.get(username)).id;
}

/** The session id bound to an access token (its `sid` claim; read only to name the session). */
export function sessionIdOf(accessToken: string): string {
  const payload = accessToken.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid?: unknown };
  if (typeof claims.sid !== 'string') throw new Error('token without sid');
  return claims.sid;
}

export const ACCESS_TOKEN_TTL_MS = 900 * 1000;

// ---- the credential checks every protected route must pass ------------------------------------

export interface ProtectedRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The URL for a request that would succeed with good credentials (built per test). */
  url(h: Harness): Promise<string>;
  /** A body that would be accepted. */
  readonly payload?: Record<string, unknown>;
  /** What a caller without any credential gets. */
  readonly anonymousDetail: string;
  /** Its status (default 401; session revoke answers anonymous callers 404, as the original). */
  readonly anonymousStatus?: number;
  /**
   * Logout: any credential that does not authenticate still gets 200 `{}` (as the original),
   * so a client can always forget its tokens. Only a malformed Authorization header is refused.
   */
  readonly answersEveryone?: boolean;
}

/**
 * Registers the checks shared by every protected route: no credentials, wrong credentials
 * (garbage token, a token from another server, wrong key in header/query/cookie), an expired
 * access token, a token whose session ended at logout or was revoked, a deleted key, and the
 * `Basic` scheme. The checks share one harness; each makes its own sessions and keys.
 */
export function credentialChecks(route: ProtectedRoute): void {
  let h: Harness;
  before(async () => {
    h = await faceHarness();
  });
  after(async () => h.close());

  /** A refused credential: 401 with `detail`, or 200 {} on a route that answers everyone. */
  const refused = (res: Awaited<ReturnType<typeof send>>, detail: string) => {
    if (!route.answersEveryone) return assertDetail(res, 401, detail);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {});
  };

  const no = route.answersEveryone ? '200 {} instead of' : '401';

  const request = async (headers: Record<string, string>, query = '') => {
    const url = await route.url(h);
    return send(h, {
      method: route.method,
      url: query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url,
      headers,
      ...(route.payload ? { payload: route.payload } : {}),
    });
  };

  test(`no credentials: ${no}`, async () => {
    const res = await request({});
    if (route.anonymousStatus && !route.answersEveryone) assertDetail(res, route.anonymousStatus, route.anonymousDetail);
    else refused(res, route.anonymousDetail);
  });

  test(`garbage bearer token: ${no} Could not validate credentials`, async () => {
    refused(await request(bearer('not.a.token')), WIRE.badToken);
    refused(await request(bearer('garbage')), WIRE.badToken);
  });

  test(`a token signed by another server: ${no} Could not validate credentials`, async () => {
    const other = await faceHarness();
    try {
      const foreign = await loginAs(other, 'bob');
      refused(await request(bearer(foreign.access_token)), WIRE.badToken);
    } finally {
      await other.close();
    }
  });

  test(`wrong API key in header, query or cookie: ${no} Invalid API key`, async () => {
    const wrong = 'ab'.repeat(36);
    refused(await request(apikey(wrong)), WIRE.invalidKey);
    refused(await request(apikey('not-hex')), WIRE.invalidKey);
    refused(await request({}, `api_key=${wrong}`), WIRE.invalidKey);
    refused(await request({ cookie: `bluesky_httpserver_api_key=${wrong}` }), WIRE.invalidKey);
  });

  test('a wrong API key is refused even next to a valid bearer token (the key wins)', async () => {
    const bob = await loginAs(h, 'bob');
    refused(await request(bearer(bob.access_token), `api_key=${'cd'.repeat(36)}`), WIRE.invalidKey);
  });

  test(`expired access token: ${no} with the exact message the Python client refreshes on`, async () => {
    const bob = await loginAs(h, 'bob');
    h.clock.advance(ACCESS_TOKEN_TTL_MS + 1000);
    refused(await request(bearer(bob.access_token)), WIRE.expired);
  });

  test(`token of a session ended by logout: ${no} Session has expired`, async () => {
    const bob = await loginAs(h, 'bob');
    const out = await send(h, { method: 'POST', url: `${PREFIX}/logout`, headers: bearer(bob.access_token) });
    assert.equal(out.statusCode, 200);
    refused(await request(bearer(bob.access_token)), WIRE.sessionExpired);
  });

  test(`token of a session revoked from another session: ${no} Session has expired`, async () => {
    const victim = await loginAs(h, 'bob');
    const other = await loginAs(h, 'bob');
    const revoke = await send(h, {
      method: 'DELETE',
      url: `${PREFIX}/session/revoke/${sessionIdOf(victim.access_token)}`,
      headers: bearer(other.access_token),
    });
    assert.equal(revoke.statusCode, 200);
    refused(await request(bearer(victim.access_token)), WIRE.sessionExpired);
  });

  test(`deleted API key: ${no} Invalid API key`, async () => {
    const bob = await loginAs(h, 'bob');
    const key = await createKey(h, bearer(bob.access_token));
    const del = await send(h, {
      method: 'DELETE',
      url: `${PREFIX}/apikey?first_eight=${key.first_eight}`,
      headers: bearer(bob.access_token),
    });
    assert.equal(del.statusCode, 200);
    refused(await request(apikey(key.secret)), WIRE.invalidKey);
  });

  test('Authorization: Basic: 400 with the exact message (trailing space)', async () => {
    const basic = `Basic ${Buffer.from('bob:bob_password').toString('base64')}`;
    assertDetail(await request({ authorization: basic }), 400, WIRE.badScheme);
  });
}
