// Every failure the services can report is one class here, with a stable `code`.
// Faces own the translation to their wire format (one mapping per face); nothing
// below the faces knows about HTTP bodies.

export abstract class GatehouseError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

/** Login failed: unknown user or wrong password (never say which). */
export class InvalidCredentialsError extends GatehouseError {
  readonly code = 'invalid_credentials';
  constructor() {
    super('Incorrect username or password');
  }
}

/** Password was right but the account may not use the server (disabled, or no roles). */
export class AccountNotAuthorizedError extends GatehouseError {
  readonly code = 'account_not_authorized';
  readonly reason: 'disabled' | 'no_roles';
  constructor(reason: 'disabled' | 'no_roles') {
    super(reason === 'disabled' ? 'account is disabled' : 'account has no roles');
    this.reason = reason;
  }
}

export class TokenExpiredError extends GatehouseError {
  readonly code = 'token_expired';
  constructor() {
    super('access token has expired');
  }
}

/** A bearer token that is malformed, wrongly signed, of the wrong type, or names an unknown key. */
export class InvalidTokenError extends GatehouseError {
  readonly code = 'invalid_token';
  constructor(detail = 'token could not be validated') {
    super(detail);
  }
}

export class InvalidApiKeyError extends GatehouseError {
  readonly code = 'invalid_api_key';
  constructor() {
    super('invalid API key');
  }
}

/** The session behind a token is revoked, expired or gone (deliberately not distinguished). */
export class SessionExpiredError extends GatehouseError {
  readonly code = 'session_expired';
  constructor() {
    super('session has expired');
  }
}

/** A refresh token that was already used: the whole session has been revoked. */
export class RefreshTokenReusedError extends GatehouseError {
  readonly code = 'refresh_token_reused';
  readonly sessionId: string;
  constructor(sessionId: string) {
    super('refresh token reuse detected; session revoked');
    this.sessionId = sessionId;
  }
}

export class NotAuthenticatedError extends GatehouseError {
  readonly code = 'not_authenticated';
  constructor() {
    super('not authenticated');
  }
}

export class InsufficientScopeError extends GatehouseError {
  readonly code = 'insufficient_scope';
  readonly required: readonly string[];
  readonly had: readonly string[];
  constructor(required: readonly string[], had: readonly string[]) {
    super(`requires scopes ${required.join(' ')}`);
    this.required = required;
    this.had = had;
  }
}

export class ScopesNotSubsetError extends GatehouseError {
  readonly code = 'scopes_not_subset';
  readonly requested: readonly string[];
  readonly allowed: readonly string[];
  constructor(requested: readonly string[], allowed: readonly string[]) {
    super('requested scopes must be a subset of the allowed scopes');
    this.requested = requested;
    this.allowed = allowed;
  }
}

/** A client_id that names no application. */
export class UnknownApplicationError extends GatehouseError {
  readonly code = 'unknown_application';
  readonly clientId: string;
  constructor(clientId: string) {
    super(`no application with client_id "${clientId}"`);
    this.clientId = clientId;
  }
}

/** A requested TPP scope that is malformed or more than the application may request. */
export class InvalidScopeRequestError extends GatehouseError {
  readonly code = 'invalid_scope';
}

/** Nothing of the requested scope is granted to the user: the account lacks the rights. */
export class NoGrantableScopeError extends GatehouseError {
  readonly code = 'no_grantable_scope';
  constructor(detail = 'the user holds none of the requested scopes') {
    super(detail);
  }
}

/** A grant (refresh token) that cannot be used by this request: another client's, or not refreshable. */
export class InvalidGrantError extends GatehouseError {
  readonly code = 'invalid_grant';
}

export class NotFoundError extends GatehouseError {
  readonly code = 'not_found';
  readonly kind: string;
  readonly id: string;
  constructor(kind: string, id: string) {
    super(`${kind} ${id} not found`);
    this.kind = kind;
    this.id = id;
  }
}

export class ConflictError extends GatehouseError {
  readonly code = 'conflict';
}

/** Input that is well-formed on the wire but not acceptable (bad bundle, bad value). */
export class ValidationError extends GatehouseError {
  readonly code = 'validation';
  readonly path: string;
  constructor(message: string, path = '') {
    super(message);
    this.path = path;
  }
}

/** The store (database) could not be reached or failed; requests fail closed. */
export class StoreUnavailableError extends GatehouseError {
  readonly code = 'store_unavailable';
  constructor(cause?: unknown) {
    super('database unavailable', { cause });
  }
}
