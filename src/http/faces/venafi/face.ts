// The Venafi TPP face: how its clients send bearer tokens, its OAuth error model
// ({"error", "error_description"}, WWW-Authenticate on 401 and 403), its time formats, and the
// shapes of its answers.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import {
  AccountNotAuthorizedError,
  GatehouseError,
  InsufficientScopeError,
  InvalidCredentialsError,
  InvalidGrantError,
  InvalidScopeRequestError,
  InvalidTokenError,
  NoGrantableScopeError,
  NotAuthenticatedError,
  RefreshTokenReusedError,
  SessionExpiredError,
  StoreUnavailableError,
  TokenExpiredError,
  UnknownApplicationError,
  ValidationError,
} from '../../../core/errors.ts';
import type { ScopeCatalogEntry } from '../../../core/model.ts';
import type { TppTokenInfo, TppTokens } from '../../../services/tpp.ts';

export const AUTH_PREFIX = '/vedauth';
export const SDK_PREFIX = '/vedsdk';

/** An error in this face's wire form. */
export class VenafiError extends Error {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  constructor(status: number, error: string, description: string) {
    super(description);
    this.status = status;
    this.error = error;
    this.description = description;
  }
}

const invalidRequest = (description: string) => new VenafiError(400, 'invalid_request', description);

/**
 * Paths are case-insensitive for TPP clients (vcert sends `authorize/oauth`, pyVenafi
 * `Authorize/OAuth`, VenafiPS `Authorize/Verify`): the path of a /vedauth or /vedsdk URL is
 * lower-cased before routing; its query and every other URL stay as they are.
 */
export function venafiRewriteUrl(url: string): string {
  if (!/^\/ved(?:auth|sdk)(?=[/?#]|$)/i.test(url)) return url;
  const end = url.search(/[?#]/);
  return end === -1 ? url.toLowerCase() : `${url.slice(0, end).toLowerCase()}${url.slice(end)}`;
}

/** Is this URL one of this face's? (For errors raised before routing.) */
export function isVenafiUrl(url: string): boolean {
  return /^\/ved(?:auth|sdk)(?=[/?#]|$)/i.test(url);
}

// ---- credentials -----------------------------------------------------------------------------

/**
 * The bearer token of a request: null when there is no Authorization header at all, '' when
 * there is one that carries no bearer token (another scheme, or nothing after `Bearer`).
 */
export function bearerFrom(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^\s*bearer(?:\s+(.*))?$/i.exec(header);
  return match ? (match[1] ?? '').trim() : '';
}

/** The bearer token a route requires; a request without one is refused as invalid_token. */
export function requiredBearer(request: FastifyRequest): string {
  const token = bearerFrom(request);
  if (token === null) throw new NotAuthenticatedError();
  return token;
}

// ---- errors ----------------------------------------------------------------------------------

/** Our error classes in this face's wire form. */
export function toVenafiError(error: GatehouseError): VenafiError {
  if (error instanceof NotAuthenticatedError) return new VenafiError(401, 'invalid_token', 'no access token was provided');
  if (error instanceof TokenExpiredError) return new VenafiError(401, 'invalid_token', 'the access token has expired');
  if (error instanceof InvalidTokenError) return new VenafiError(401, 'invalid_token', 'the access token is not valid');
  if (error instanceof SessionExpiredError) return new VenafiError(401, 'invalid_token', 'the grant of this access token was revoked or has expired');
  if (error instanceof AccountNotAuthorizedError) {
    return new VenafiError(401, 'insufficient_rights', error.reason === 'disabled' ? 'the account is disabled' : 'the account has no rights on this server');
  }
  if (error instanceof NoGrantableScopeError) return new VenafiError(401, 'insufficient_rights', error.message);
  if (error instanceof InsufficientScopeError) {
    return new VenafiError(403, 'insufficient_scope', `the access token lacks the ${error.required.join(' ')} scope`);
  }
  if (error instanceof InvalidCredentialsError) return new VenafiError(400, 'invalid_grant', 'Username/password combination not valid');
  if (error instanceof InvalidGrantError || error instanceof RefreshTokenReusedError) return new VenafiError(400, 'invalid_grant', grantMessage(error));
  if (error instanceof UnknownApplicationError) return new VenafiError(400, 'invalid_client', `unknown client_id "${error.clientId}"`);
  if (error instanceof InvalidScopeRequestError) return new VenafiError(400, 'invalid_scope', error.message);
  if (error instanceof ValidationError) return invalidRequest(error.message);
  if (error instanceof StoreUnavailableError) return new VenafiError(503, 'temporarily_unavailable', 'the service is temporarily unavailable');
  return invalidRequest(error.message);
}

function grantMessage(error: GatehouseError): string {
  return error instanceof RefreshTokenReusedError ? 'the refresh token was already used; the grant is revoked' : error.message;
}

/** On the token endpoint a refresh token that leads nowhere is an invalid grant, not an invalid token. */
export function asGrantError(error: unknown): unknown {
  if (error instanceof SessionExpiredError) return new VenafiError(400, 'invalid_grant', 'the refresh token is not valid, or its grant was revoked or has expired');
  return error;
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Fastify's own errors (parsing, schema validation, limits) in this face's form. */
export function fromFrameworkError(error: FastifyError): VenafiError {
  if (error.validation) {
    const issue = (error.validation as AjvIssue[])[0] ?? {};
    const field = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
    const missing = issue.params?.missingProperty;
    if (issue.keyword === 'required' && typeof missing === 'string') return invalidRequest(`missing parameter ${missing}`);
    if (field === '') return invalidRequest('the body must be a JSON object');
    return invalidRequest(`parameter ${field} ${issue.message ?? 'is not valid'}`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest('the body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return invalidRequest('the body must be JSON (Content-Type: application/json)');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new VenafiError(413, 'invalid_request', 'the body is too large');
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) return new VenafiError(500, 'server_error', 'the server could not answer the request');
  return new VenafiError(status, 'invalid_request', status === 400 ? 'the request is malformed' : error.message);
}

/** A header-safe quoted-string value. */
function quoted(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'");
}

export function sendVenafiError(reply: FastifyReply, error: VenafiError): FastifyReply {
  if (error.status === 401 || error.status === 403) {
    const scope = error.error === 'insufficient_scope' ? ', scope="admin"' : '';
    reply.header('www-authenticate', `Bearer error="${error.error}", error_description="${quoted(error.description)}"${scope}`);
  }
  if (error.status === 503) reply.header('retry-after', '1');
  // also for errors raised before routing, where the face's onSend hook does not run
  reply.header('cache-control', 'no-store');
  return reply.code(error.status).type('application/json').send({ error: error.error, error_description: error.description });
}

// ---- time formats ----------------------------------------------------------------------------

/** Whole seconds since the epoch. */
export function unixSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** `/Date(<ms>)/`, as TPP writes dates (to the second). */
export function dotNetDate(ms: number): string {
  return `/Date(${unixSeconds(ms) * 1000})/`;
}

/** `YYYY-MM-DDTHH:MM:SSZ`, the one form vcert parses. */
export function iso8601(ms: number): string {
  return `${new Date(unixSeconds(ms) * 1000).toISOString().slice(0, 19)}Z`;
}

// ---- shapes ----------------------------------------------------------------------------------

export const ErrorSchema = Type.Object({ error: Type.String(), error_description: Type.String() });

/** Error responses a route can give, for the OpenAPI document. */
export const ERROR_RESPONSES = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  413: ErrorSchema,
  503: ErrorSchema,
};

export const TokenSchema = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.Optional(Type.String()),
  expires: Type.Integer({ description: 'when the access token expires, unix seconds' }),
  expires_in: Type.Integer({ description: 'seconds the access token lives' }),
  refresh_until: Type.Optional(Type.Integer({ description: 'when the grant (and its refresh tokens) ends, unix seconds' })),
  identity: Type.String(),
  scope: Type.String(),
  token_type: Type.String(),
});

export function identityOf(principalId: string): string {
  return `local:{${principalId}}`;
}

export function tokenJson(tokens: TppTokens): Static<typeof TokenSchema> {
  return {
    access_token: tokens.accessToken,
    ...(tokens.refreshToken !== null ? { refresh_token: tokens.refreshToken } : {}),
    expires: unixSeconds(tokens.accessExpiresAt),
    expires_in: unixSeconds(tokens.accessExpiresAt - tokens.accessIssuedAt),
    ...(tokens.refreshToken !== null ? { refresh_until: unixSeconds(tokens.grantExpiresAt) } : {}),
    identity: identityOf(tokens.principalId),
    scope: tokens.scope,
    token_type: 'Bearer',
  };
}

export const VerifySchema = Type.Object({
  access_issued_on: Type.String(),
  access_issued_on_ISO8601: Type.String(),
  access_issued_on_unix_time: Type.Integer(),
  application: Type.String(),
  expires: Type.String(),
  expires_ISO8601: Type.String(),
  expires_unix_time: Type.Integer(),
  grant_issued_on: Type.String(),
  grant_issued_on_ISO8601: Type.String(),
  grant_issued_on_unix_time: Type.Integer(),
  identity: Type.String(),
  scope: Type.String(),
  valid_for: Type.Integer(),
});

/** GET /authorize/verify: `expires*` is the GRANT's end; the token's is access_issued_on + valid_for. */
export function verifyJson(info: TppTokenInfo): Static<typeof VerifySchema> {
  return {
    access_issued_on: dotNetDate(info.accessIssuedAt),
    access_issued_on_ISO8601: iso8601(info.accessIssuedAt),
    access_issued_on_unix_time: unixSeconds(info.accessIssuedAt),
    application: info.clientId,
    expires: dotNetDate(info.grantExpiresAt),
    expires_ISO8601: iso8601(info.grantExpiresAt),
    expires_unix_time: unixSeconds(info.grantExpiresAt),
    grant_issued_on: dotNetDate(info.grantIssuedAt),
    grant_issued_on_ISO8601: iso8601(info.grantIssuedAt),
    grant_issued_on_unix_time: unixSeconds(info.grantIssuedAt),
    identity: identityOf(info.principalId),
    scope: info.scope,
    valid_for: unixSeconds(info.accessExpiresAt - info.accessIssuedAt),
  };
}

export const ScopesSchema = Type.Object({
  Result: Type.Integer(),
  Scopes: Type.Array(Type.Object({ RestrictionList: Type.Array(Type.String()), Scope: Type.String() })),
  Success: Type.Boolean(),
});

export function scopesJson(catalog: readonly ScopeCatalogEntry[]): Static<typeof ScopesSchema> {
  return {
    Result: 0,
    Scopes: catalog.map((e) => ({ RestrictionList: [...e.restrictions], Scope: e.scope })),
    Success: true,
  };
}

export const EmptySchema = Type.Object({});
