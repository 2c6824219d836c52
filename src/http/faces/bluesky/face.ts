// The Bluesky queue server face: how credentials travel, how errors look ({"detail": ...} with the
// original server's exact strings), and how our model is shaped into its JSON.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import {
  AccountNotAuthorizedError,
  GatehouseError,
  InsufficientScopeError,
  InvalidApiKeyError,
  InvalidCredentialsError,
  InvalidTokenError,
  NotAuthenticatedError,
  NotFoundError,
  RefreshTokenReusedError,
  ScopesNotSubsetError,
  SessionExpiredError,
  StoreUnavailableError,
  TokenExpiredError,
  ValidationError,
} from '../../../core/errors.ts';
import type { ApiKey, Identity, Session } from '../../../core/model.ts';
import { decide } from '../../../core/policy.ts';
import { naiveIsoSeconds } from '../../../core/time.ts';
import type { Services } from '../../../services/index.ts';
import type { AuthContext, Credential } from '../../../services/context.ts';
import type { PrincipalDetails } from '../../../services/principals.ts';
import type { TokenPair } from '../../../services/sessions.ts';

export const API_KEY_COOKIE = 'bluesky_httpserver_api_key';

export const MESSAGES = {
  expired: 'Access token has expired. Refresh token.',
  invalidKey: 'Invalid API key',
  sessionExpired: 'Session has expired. Please re-authenticate.',
  badLogin: 'Incorrect username or password',
  notAuthorized: 'User is not authorized to access the server',
  permissionsRevoked: 'Permissions for the user are revoked. Please contact the administrator.',
  badToken: 'Could not validate credentials',
  notAuthenticated: 'Not authenticated',
  noApiKey: 'No API key was provided with this request.',
  badScheme:
    "Authorization header must include the authorization type followed by a space and then the secret, as in 'Bearer SECRET' or 'Apikey SECRET'. ",
  unavailable: 'Service temporarily unavailable',
} as const;

/** An error already in this face's wire form. */
export class FaceError extends Error {
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;
  constructor(status: number, detail: unknown, headers: Record<string, string> = {}) {
    super(typeof detail === 'string' ? detail : 'request failed');
    this.status = status;
    this.detail = detail;
    this.headers = headers;
  }
}

// ---- credentials -----------------------------------------------------------------------------

/**
 * Where the original server looks for credentials, in its order: an API key in the `api_key`
 * query parameter, the `Authorization: Apikey` header or the cookie wins over a bearer token.
 */
export function credentialFrom(request: FastifyRequest): Credential {
  const header = request.headers.authorization;
  let bearer: string | null = null;
  let headerKey: string | null = null;
  if (header) {
    const space = header.indexOf(' ');
    const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
    const param = space === -1 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer') bearer = param;
    else if (scheme === 'apikey') headerKey = param;
    else throw new FaceError(400, MESSAGES.badScheme);
  }
  // An empty query parameter or cookie is no key (FastAPI's readers return None for ""); an
  // empty `Authorization: Apikey` is a key, and a wrong one.
  const apiKey = queryApiKey(request) ?? headerKey ?? (request.cookies?.[API_KEY_COOKIE] || null);
  if (apiKey !== null) return { kind: 'apikey', secret: apiKey };
  // `Authorization: Bearer` with nothing after it is a credential that fails, not an absent one.
  if (bearer !== null) return { kind: 'bearer', token: bearer };
  return { kind: 'none' };
}

/** The `api_key` query parameter; when repeated, the last one counts (as Starlette reads it). */
function queryApiKey(request: FastifyRequest): string | null {
  const value = (request.query as Record<string, unknown> | undefined)?.api_key;
  const last: unknown = Array.isArray(value) ? value[value.length - 1] : value;
  return typeof last === 'string' && last !== '' ? last : null;
}

/** The secret of the API key on the request, if any (GET /apikey looks at keys only). */
export function apiKeyFrom(request: FastifyRequest): string | null {
  const credential = credentialFrom(request);
  return credential.kind === 'apikey' ? credential.secret : null;
}

export interface GuardOptions {
  /** Scopes the route requires. */
  readonly scopes?: readonly string[];
  /** Whether an anonymous caller is acceptable (GET /scopes). */
  readonly allowAnonymous?: boolean;
}

/**
 * A hook that authenticates the request and enforces the route's scopes. Routes run it as
 * `preValidation`, so, as in the original server, a caller without the right credentials gets
 * 401 before any complaint about the shape of the body or the parameters.
 */
export function guard(services: Services, options: GuardOptions = {}) {
  const required = options.scopes ?? [];
  return async (request: FastifyRequest): Promise<void> => {
    const ctx = await services.auth.authenticate(credentialFrom(request));
    const decision = decide(required, ctx.scopes);
    if (!decision.allowed) throw new InsufficientScopeError(required, ctx.scopes);
    if (!ctx.principal && !options.allowAnonymous) throw new NotAuthenticatedError();
    request.auth = ctx;
  };
}

/**
 * For routes whose body is a JSON object: a body sent as anything but JSON is refused (422, as
 * FastAPI refuses it) instead of being read through another parser. A form or text body must not
 * stand in for JSON: an HTML form on another site can send those without a CORS preflight.
 */
export async function jsonBodyOnly(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'];
  if (type === undefined) return;
  const media = type.split(';', 1)[0]?.trim().toLowerCase();
  if (media === 'application/json') return;
  throw new FaceError(422, [
    { loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', type: 'model_attributes_type' },
  ]);
}

export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new NotAuthenticatedError();
  return request.auth;
}

// ---- errors ----------------------------------------------------------------------------------

/** Python's repr() of a list of strings, as the original server prints scope lists. */
export function pyList(values: readonly string[]): string {
  return `[${values.map(pyStr).join(', ')}]`;
}

function pyStr(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  const escaped = value.replace(/\\/g, '\\\\').replace(new RegExp(quote, 'g'), `\\${quote}`);
  return `${quote}${escaped}${quote}`;
}

function bearerChallenge(scopes: readonly string[] = []): Record<string, string> {
  return { 'www-authenticate': scopes.length ? `Bearer scope="${scopes.join(' ')}"` : 'Bearer' };
}

/** Our error classes in this face's wire form. */
export function toFaceError(error: GatehouseError): FaceError {
  if (error instanceof TokenExpiredError) return new FaceError(401, MESSAGES.expired, bearerChallenge());
  if (error instanceof InvalidTokenError) return new FaceError(401, MESSAGES.badToken, bearerChallenge());
  if (error instanceof InvalidApiKeyError) return new FaceError(401, MESSAGES.invalidKey, bearerChallenge());
  if (error instanceof SessionExpiredError || error instanceof RefreshTokenReusedError) {
    return new FaceError(401, MESSAGES.sessionExpired);
  }
  if (error instanceof InvalidCredentialsError) return new FaceError(401, MESSAGES.badLogin, bearerChallenge());
  if (error instanceof AccountNotAuthorizedError) return new FaceError(401, MESSAGES.notAuthorized, bearerChallenge());
  if (error instanceof NotAuthenticatedError) return new FaceError(401, MESSAGES.notAuthenticated, bearerChallenge());
  if (error instanceof InsufficientScopeError) {
    return new FaceError(
      401,
      `Not enough permissions. Requires scopes ${pyList(error.required)}. Request had scopes ${pyList(error.had)}`,
      bearerChallenge(error.required),
    );
  }
  if (error instanceof ScopesNotSubsetError) {
    return new FaceError(
      400,
      `Requested scopes ${pyList(error.requested)} must be a subset of the allowed principal's scopes ${pyList(error.allowed)}.`,
    );
  }
  if (error instanceof NotFoundError) {
    switch (error.kind) {
      case 'session':
        return new FaceError(404, `No session ${error.id}`);
      case 'foreign session':
        return new FaceError(404, 'Sessions does not exist or requester has insufficient permissions');
      case 'api key':
        return new FaceError(404, 'The currently-authenticated user has no such API key.');
      case 'principal':
        return new FaceError(404, `Principal ${error.id} does not exist or insufficient permissions.`);
      default:
        return new FaceError(404, 'Not Found');
    }
  }
  if (error instanceof ValidationError) {
    return new FaceError(422, [{ loc: ['body', ...(error.path ? [error.path] : [])], msg: error.message, type: 'value_error' }]);
  }
  if (error instanceof StoreUnavailableError) return new FaceError(503, MESSAGES.unavailable, { 'retry-after': '1' });
  return new FaceError(400, error.message);
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const LOCATION: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

function isUnionNoise(issue: AjvIssue): boolean {
  return issue.keyword === 'anyOf' || (issue.keyword === 'type' && issue.params?.type === 'null');
}

/** A JSON-pointer segment as FastAPI prints a location: list indices as numbers. */
function pointerSegment(segment: string): string | number {
  if (/^(0|[1-9][0-9]{0,8})$/.test(segment)) return Number(segment);
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Fastify's own errors (parsing, schema validation, limits) in FastAPI's shape.
 * @param bodyAbsent the request carried no body at all (FastAPI: `missing` at `["body"]`)
 */
export function fromFrameworkError(error: FastifyError, bodyAbsent = false): FaceError {
  if (error.validation) {
    const where = LOCATION[error.validationContext ?? 'body'] ?? 'body';
    if (where === 'body' && bodyAbsent) {
      return new FaceError(422, [{ loc: ['body'], msg: 'Field required', type: 'missing' }]);
    }
    const issues = error.validation as AjvIssue[];
    // A nullable field that fails also reports "must be null" and "must match a schema in
    // anyOf"; FastAPI reports only the real complaint, so those go when another issue remains.
    const useful = issues.filter((issue) => !isUnionNoise(issue));
    const detail = (useful.length > 0 ? useful : issues).map((issue) => {
      const path = (issue.instancePath ?? '').split('/').filter(Boolean).map(pointerSegment);
      const property = issue.params?.missingProperty;
      const missing = issue.keyword === 'required' && typeof property === 'string' ? [property] : [];
      return {
        loc: [where, ...path, ...missing],
        msg: issue.keyword === 'required' ? 'Field required' : (issue.message ?? 'invalid value'),
        type: issue.keyword === 'required' ? 'missing' : (issue.keyword ?? 'value_error'),
      };
    });
    return new FaceError(422, detail);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new FaceError(422, [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }]);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FaceError(413, 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new FaceError(415, 'Unsupported media type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new FaceError(400, 'Invalid Content-Length');
  }
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  return new FaceError(status, status === 500 ? 'Internal Server Error' : error.message);
}

export function sendFaceError(reply: FastifyReply, error: FaceError): FastifyReply {
  return reply.code(error.status).headers(error.headers).type('application/json').send({ detail: error.detail });
}

// ---- shapes ----------------------------------------------------------------------------------

const NullableString = Type.Union([Type.String(), Type.Null()]);

export const TokensSchema = Type.Object({
  access_token: Type.String(),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
  refresh_token_expires_in: Type.Integer(),
  token_type: Type.String(),
});

export const ApiKeySchema = Type.Object({
  first_eight: Type.String(),
  expiration_time: NullableString,
  note: NullableString,
  scopes: Type.Array(Type.String()),
  latest_activity: NullableString,
});

export const ApiKeyWithSecretSchema = Type.Object({
  ...ApiKeySchema.properties,
  secret: Type.String(),
});

export const PrincipalSchema = Type.Object({
  uuid: Type.String(),
  type: Type.String(),
  identities: Type.Array(Type.Object({ id: Type.String(), provider: Type.String(), latest_login: NullableString })),
  api_keys: Type.Array(ApiKeySchema),
  sessions: Type.Array(Type.Object({ uuid: Type.String(), expiration_time: Type.String(), revoked: Type.Boolean() })),
  latest_activity: NullableString,
  roles: Type.Array(Type.String()),
  scopes: Type.Array(Type.String()),
  api_key_scopes: Type.Union([Type.Array(Type.String()), Type.Null()]),
});

export const DetailSchema = Type.Object({ detail: Type.Unknown() });
export const SuccessSchema = Type.Object({ success: Type.Boolean(), msg: Type.String() });

/** Error responses every route can give, for the OpenAPI document. */
export const ERROR_RESPONSES = {
  400: DetailSchema,
  401: DetailSchema,
  404: DetailSchema,
  413: DetailSchema,
  415: DetailSchema,
  422: DetailSchema,
  503: DetailSchema,
};

function iso(ms: number | null): string | null {
  return ms === null ? null : naiveIsoSeconds(ms);
}

export function apiKeyJson(key: ApiKey): Static<typeof ApiKeySchema> {
  return {
    first_eight: key.firstEight,
    expiration_time: iso(key.expiresAt),
    note: key.note,
    scopes: [...key.scopes],
    latest_activity: iso(key.latestActivity),
  };
}

function identityJson(identity: Identity) {
  return { id: identity.externalId, provider: identity.provider, latest_login: iso(identity.latestLogin) };
}

function sessionJson(session: Session) {
  return { uuid: session.id, expiration_time: naiveIsoSeconds(session.expiresAt), revoked: session.revokedAt !== null };
}

export function principalJson(
  details: PrincipalDetails,
  access: { roles: readonly string[]; scopes: readonly string[]; apiKeyScopes: readonly string[] | null },
): Static<typeof PrincipalSchema> {
  return {
    uuid: details.principal.id,
    type: details.principal.type,
    identities: details.identities.map(identityJson),
    api_keys: details.apiKeys.map(apiKeyJson),
    sessions: details.sessions.map(sessionJson),
    latest_activity: iso(details.latestActivity),
    roles: [...access.roles],
    scopes: [...access.scopes],
    api_key_scopes: access.apiKeyScopes ? [...access.apiKeyScopes].sort() : null,
  };
}

export function tokensJson(pair: TokenPair): Static<typeof TokensSchema> {
  return {
    access_token: pair.accessToken,
    expires_in: pair.expiresIn,
    refresh_token: pair.refreshToken,
    refresh_token_expires_in: pair.refreshTokenExpiresIn,
    token_type: 'bearer',
  };
}
