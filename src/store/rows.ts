// Result rows to model objects, shared by the backends: both keep the same columns, JSON lists
// as text, and times as integers (ms since the epoch). Where they differ — how a boolean or a
// principal's role list comes back — the backend maps that itself.

import type { AccessTokenRecord, ApiKey, Application, Group, Identity, RefreshTokenRecord, Role, Session } from '../core/model.ts';

/** A column value as either driver returns it (SQLite: integers for booleans; PostgreSQL: booleans, text[]). */
export type Value = string | number | bigint | boolean | null | readonly string[];
export type Row = Readonly<Record<string, Value>>;

export function nullableNumber(v: Value | undefined): number | null {
  return v === null || v === undefined ? null : Number(v);
}

export function nullableString(v: Value | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** A boolean column: PostgreSQL's boolean, SQLite's 0/1. */
export function flag(v: Value | undefined): boolean {
  return v === true || Number(v) === 1;
}

export function toRole(r: Row): Role {
  return { name: String(r.name), scopes: JSON.parse(String(r.scopes)) as string[], description: nullableString(r.description) };
}

export function toGroup(r: Row): Group {
  return {
    name: String(r.name),
    roles: JSON.parse(String(r.roles)) as string[],
    attributes: JSON.parse(String(r.attributes)) as Record<string, unknown>,
  };
}

export function toIdentity(r: Row): Identity {
  return {
    provider: String(r.provider),
    externalId: String(r.external_id),
    principalId: String(r.principal_id),
    latestLogin: nullableNumber(r.latest_login),
  };
}

export function toSession(r: Row): Session {
  return {
    id: String(r.id),
    principalId: String(r.principal_id),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    revokedAt: nullableNumber(r.revoked_at),
    lastRefreshedAt: nullableNumber(r.last_refreshed_at),
    refreshCount: Number(r.refresh_count),
    clientId: nullableString(r.client_id),
    scope: nullableString(r.scope),
  };
}

export function toAccessToken(r: Row): AccessTokenRecord {
  return {
    tokenHash: String(r.token_hash),
    sessionId: String(r.session_id),
    issuedAt: Number(r.issued_at),
    expiresAt: Number(r.expires_at),
  };
}

export function toApplication(r: Row): Application {
  return {
    clientId: String(r.client_id),
    name: nullableString(r.name),
    scopes: String(r.scopes),
    accessTokenTtl: Number(r.access_token_ttl),
    grantTtl: Number(r.grant_ttl),
    allowRefresh: flag(r.allow_refresh),
  };
}

export function toRefreshToken(r: Row): RefreshTokenRecord {
  return {
    tokenHash: String(r.token_hash),
    sessionId: String(r.session_id),
    expiresAt: Number(r.expires_at),
    usedAt: nullableNumber(r.used_at),
  };
}

export function toApiKey(r: Row): ApiKey {
  return {
    id: String(r.id),
    principalId: String(r.principal_id),
    firstEight: String(r.first_eight),
    secretHash: String(r.secret_hash),
    scopes: JSON.parse(String(r.scopes)) as string[],
    note: nullableString(r.note),
    expiresAt: nullableNumber(r.expires_at),
    createdAt: Number(r.created_at),
    latestActivity: nullableNumber(r.latest_activity),
  };
}

// ---- a principal's holdings in one statement ----------------------------------------------------

/** Columns of each table as the mappers above read them; the one-statement read builds JSON objects of them. */
export const IDENTITY_COLUMNS = ['provider', 'external_id', 'principal_id', 'latest_login'] as const;
export const API_KEY_COLUMNS = [
  'id',
  'principal_id',
  'first_eight',
  'secret_hash',
  'scopes',
  'note',
  'expires_at',
  'created_at',
  'latest_activity',
] as const;
export const SESSION_COLUMNS = [
  'id',
  'principal_id',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_refreshed_at',
  'refresh_count',
  'client_id',
  'scope',
] as const;

/** `'a', a, 'b', b` — the arguments of json_object / json_build_object for these columns. */
export function jsonObjectArgs(columns: readonly string[]): string {
  return columns.map((c) => `'${c}', ${c}`).join(', ');
}
