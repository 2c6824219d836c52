// Fixtures shared by the Venafi TPP face tests: a policy with one user and one application per
// situation, request helpers for the five routes, and the checks of the OAuth error model.

import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { harness, type Harness } from '../../helpers.ts';
import type { Config } from '../../../src/config.ts';

export type { Harness };

/**
 * vera: TPP admin (admin, certificates, ssh:manage); walt: certificates (manage, revoke) and a
 * queue-server scope; cora: the base certificate scope only; bob: queue-server roles only (no TPP
 * scope, though his `admin` role has `admin:apikeys`); nobody: no roles; dora: disabled.
 */
export const VENAFI_BUNDLE = `
roles:
  - { name: tpp-admin, scopes: [admin, "certificate:approve,delete,discover,manage,revoke", "ssh:manage"] }
  - { name: cert-manager, scopes: ["certificate:manage,revoke", read:status] }
  - { name: cert-viewer, scopes: [certificate] }
users:
  - { username: vera, password: vera_password, roles: [tpp-admin] }
  - { username: walt, password: walt_password, roles: [cert-manager] }
  - { username: cora, password: cora_password, roles: [cert-viewer] }
  - { username: bob, password: bob_password, roles: [admin, expert] }
  - { username: nobody, password: nobody_password, roles: [] }
  - { username: dora, password: dora_password, roles: [tpp-admin], disabled: true }
applications:
  - { clientId: vcert-cli, name: VCert CLI, scopes: "certificate:manage,revoke;ssh:manage" }
  - { clientId: admin-tool, scopes: "admin;certificate:manage,revoke" }
  - { clientId: no-refresh, scopes: "certificate:manage", accessTokenTtl: 3600, allowRefresh: false }
  - { clientId: short, scopes: "admin;certificate:manage,revoke", accessTokenTtl: 600, grantTtl: 3600 }
  - { clientId: capped, scopes: "certificate:manage", accessTokenTtl: 7200, grantTtl: 3600 }
`;

export const PASSWORDS: Readonly<Record<string, string>> = {
  vera: 'vera_password',
  walt: 'walt_password',
  cora: 'cora_password',
  bob: 'bob_password',
  nobody: 'nobody_password',
  dora: 'dora_password',
};

/** TPP's defaults (reference/venafi.md): tokens 90 days, grants a year. */
export const DEFAULT_ACCESS_TTL = 90 * 86400;
export const DEFAULT_GRANT_TTL = 365 * 86400;

export const AUTHORIZE = '/vedauth/authorize/oauth';
export const TOKEN = '/vedauth/authorize/token';
export const VERIFY = '/vedauth/authorize/verify';
export const REVOKE = '/vedauth/revoke/token';
export const GETSCOPES = '/vedsdk/oauth/getscopes';

export interface TokenJson {
  access_token: string;
  refresh_token?: string;
  expires: number;
  expires_in: number;
  refresh_until?: number;
  identity: string;
  scope: string;
  token_type: string;
}

export interface VerifyJson {
  access_issued_on: string;
  access_issued_on_ISO8601: string;
  access_issued_on_unix_time: number;
  application: string;
  expires: string;
  expires_ISO8601: string;
  expires_unix_time: number;
  grant_issued_on: string;
  grant_issued_on_ISO8601: string;
  grant_issued_on_unix_time: number;
  identity: string;
  scope: string;
  valid_for: number;
}

export async function venafiHarness(config: Partial<Config> = {}, bundle = VENAFI_BUNDLE): Promise<Harness> {
  return harness({ bundle, config });
}

export function send(h: Harness, options: InjectOptions): Promise<LightMyRequestResponse> {
  return h.app.inject(options);
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** vcert sends `Content-Type: application/json` on every request, bodiless GETs included. */
export const JSON_TYPE = { 'content-type': 'application/json' };

export function authorizeRequest(h: Harness, body: unknown): Promise<LightMyRequestResponse> {
  return send(h, { method: 'POST', url: AUTHORIZE, headers: JSON_TYPE, payload: JSON.stringify(body) });
}

/** Authorizes `username` for `clientId` with `scope`; fails the test unless it answers 200. */
export async function authorizeAs(h: Harness, username: string, clientId: string, scope: string): Promise<TokenJson> {
  const password = PASSWORDS[username];
  if (password === undefined) throw new Error(`no password for ${username}`);
  const res = await authorizeRequest(h, { client_id: clientId, username, password, scope, state: '' });
  assert.equal(res.statusCode, 200, `authorize ${username}: ${res.body}`);
  return res.json<TokenJson>();
}

export function refreshRequest(h: Harness, clientId: string, refreshToken: string): Promise<LightMyRequestResponse> {
  return send(h, { method: 'POST', url: TOKEN, headers: JSON_TYPE, payload: JSON.stringify({ client_id: clientId, refresh_token: refreshToken }) });
}

export function verifyRequest(h: Harness, token: string): Promise<LightMyRequestResponse> {
  return send(h, { method: 'GET', url: VERIFY, headers: { ...JSON_TYPE, ...bearer(token) } });
}

export function revokeRequest(h: Harness, token: string): Promise<LightMyRequestResponse> {
  return send(h, { method: 'GET', url: REVOKE, headers: { ...JSON_TYPE, ...bearer(token) } });
}

export function getScopesRequest(h: Harness, token: string, payload = '{}'): Promise<LightMyRequestResponse> {
  return send(h, { method: 'POST', url: GETSCOPES, headers: { ...JSON_TYPE, ...bearer(token) }, payload });
}

export async function uuidOf(h: Harness, username: string): Promise<string> {
  return (await h.services.users.get(username)).id;
}

/** Every grant (session) of a user. */
export async function grantsOf(h: Harness, username: string) {
  return (await h.services.store.listSessions(await uuidOf(h, username))).filter((s) => s.clientId !== null);
}

/** Headers every answer of the face carries. */
export function assertFaceHeaders(res: LightMyRequestResponse): void {
  assert.match(String(res.headers['content-type']), /^application\/json/, 'a JSON answer');
  assert.equal(res.headers['cache-control'], 'no-store', 'tokens are never cached');
}

/**
 * Asserts an OAuth error answer: the status, `{"error", "error_description"}` and nothing else,
 * and on 401 and 403 a `WWW-Authenticate: Bearer error="<error>"` challenge.
 */
export function assertOAuthError(res: LightMyRequestResponse, status: number, error: string): void {
  assert.equal(res.statusCode, status, `status (body: ${res.body})`);
  assertFaceHeaders(res);
  const body = res.json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], res.body);
  assert.equal(body.error, error, res.body);
  assert.equal(typeof body.error_description, 'string');
  assert.ok(String(body.error_description).length > 0, 'a description');
  const challenge = res.headers['www-authenticate'];
  if (status === 401 || status === 403) {
    assert.ok(typeof challenge === 'string', 'a WWW-Authenticate challenge');
    assert.ok(challenge.startsWith(`Bearer error="${error}"`), `challenge: ${challenge}`);
  } else {
    assert.equal(challenge, undefined, 'no challenge outside 401 and 403');
  }
}

/** The `{...}` example response of a seed file, parsed. */
export function seedResponse(seed: string): unknown {
  const match = /\nResponse\s*\n\s*(\{[\s\S]*\})\s*$/.exec(seed);
  if (!match?.[1]) throw new Error('the seed has no example response');
  return JSON.parse(match[1]);
}
