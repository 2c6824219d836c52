// The data model shared by every layer. Plain types, no behaviour, no I/O.

export type PrincipalType = 'user' | 'service';

export interface Principal {
  readonly id: string; // uuid
  readonly type: PrincipalType;
  readonly username: string; // unique login name (services too: used for identity and admin)
  readonly email: string | null;
  readonly disabled: boolean;
  readonly admin: boolean;
  readonly ipFilter: string | null;
  readonly roles: readonly string[]; // directly assigned role names
  readonly groups: readonly string[]; // group names the principal belongs to
  readonly createdAt: number; // ms since epoch
  readonly updatedAt: number;
}

/** A principal as stored, with its password hash (never leaves the services layer). */
export interface PrincipalWithSecret extends Principal {
  readonly passwordHash: string | null;
}

export interface Identity {
  readonly provider: string;
  readonly externalId: string;
  readonly principalId: string;
  readonly latestLogin: number | null;
}

export interface Role {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly description: string | null;
}

export interface Group {
  readonly name: string;
  readonly roles: readonly string[];
  /** Face-specific attributes (ATSD entity groups, portals ...), kept as data. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface Session {
  readonly id: string; // uuid
  readonly principalId: string;
  readonly createdAt: number;
  readonly expiresAt: number; // hard limit of the session (max age)
  readonly revokedAt: number | null;
  readonly lastRefreshedAt: number | null;
  readonly refreshCount: number;
  /** The application a Venafi TPP grant was issued to; null for every other session. */
  readonly clientId: string | null;
  /** The TPP scope granted (normalized scope string); null for every other session. */
  readonly scope: string | null;
}

export interface RefreshTokenRecord {
  readonly tokenHash: string; // sha256 hex of the token
  readonly sessionId: string;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

/** An opaque access token of a Venafi TPP grant (the grant is its session). */
export interface AccessTokenRecord {
  readonly tokenHash: string; // sha256 hex of the token
  readonly sessionId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** A Venafi-style API integration: a client_id and the TPP scopes it may request. */
export interface Application {
  readonly clientId: string;
  readonly name: string | null;
  /** Normalized TPP scope string. */
  readonly scopes: string;
  /** Seconds an access token lives. */
  readonly accessTokenTtl: number;
  /** Seconds a grant lives (the refresh_until of its tokens). */
  readonly grantTtl: number;
  readonly allowRefresh: boolean;
}

/** One scope of the TPP scope catalog and the restrictions it knows. */
export interface ScopeCatalogEntry {
  readonly scope: string;
  readonly restrictions: readonly string[];
}

export interface ApiKey {
  readonly id: string; // uuid
  readonly principalId: string;
  readonly firstEight: string;
  readonly secretHash: string; // sha256 hex of the secret bytes
  readonly scopes: readonly string[];
  readonly note: string | null;
  readonly expiresAt: number | null;
  readonly createdAt: number;
  readonly latestActivity: number | null;
}

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly publicJwk: Readonly<Record<string, unknown>>;
  readonly privateJwk: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  /** When a newer key took over signing; null while this key signs. */
  readonly retiredAt: number | null;
}

/** The role and group definitions in force: the input of every decision. */
export interface Policy {
  readonly roles: ReadonlyMap<string, readonly string[]>;
  readonly groups: ReadonlyMap<string, readonly string[]>; // group -> role names
}
