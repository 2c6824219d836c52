// Versioned schema of the SQLite backend. Append new versions; never edit a released one.

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE principals (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('user', 'service')),
  username TEXT NOT NULL UNIQUE,
  email TEXT,
  password_hash TEXT,
  disabled INTEGER NOT NULL DEFAULT 0,
  admin INTEGER NOT NULL DEFAULT 0,
  ip_filter TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE principal_roles (
  principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  PRIMARY KEY (principal_id, role)
);
CREATE TABLE group_members (
  principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  group_name TEXT NOT NULL,
  PRIMARY KEY (principal_id, group_name)
);
CREATE INDEX group_members_group ON group_members(group_name);
CREATE TABLE identities (
  provider TEXT NOT NULL,
  external_id TEXT NOT NULL,
  principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  latest_login INTEGER,
  PRIMARY KEY (provider, external_id)
);
CREATE INDEX identities_principal ON identities(principal_id);
CREATE TABLE roles (
  name TEXT PRIMARY KEY,
  scopes TEXT NOT NULL,
  description TEXT
);
CREATE TABLE groups (
  name TEXT PRIMARY KEY,
  roles TEXT NOT NULL,
  attributes TEXT NOT NULL
);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_refreshed_at INTEGER,
  refresh_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_principal ON sessions(principal_id);
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  principal_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  first_eight TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  note TEXT,
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  latest_activity INTEGER
);
CREATE INDEX api_keys_principal ON api_keys(principal_id, first_eight);
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  retired_at INTEGER
);
`,
  },
  {
    version: 2,
    name: 'Venafi TPP grants: applications, access tokens, settings',
    sql: `
CREATE TABLE applications (
  client_id TEXT PRIMARY KEY,
  name TEXT,
  scopes TEXT NOT NULL,
  access_token_ttl INTEGER NOT NULL,
  grant_ttl INTEGER NOT NULL,
  allow_refresh INTEGER NOT NULL
);
ALTER TABLE sessions ADD COLUMN client_id TEXT REFERENCES applications(client_id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN scope TEXT;
CREATE INDEX sessions_client ON sessions(client_id);
CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX access_tokens_session ON access_tokens(session_id);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'refresh and access tokens stored in the b-tree of their hash (WITHOUT ROWID)',
    // A token is only ever found by its hash: one b-tree instead of a rowid table plus the
    // primary key's index means a look-up reads one path and a rotation writes fewer pages.
    sql: `
CREATE TABLE refresh_tokens_v3 (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
) WITHOUT ROWID;
INSERT INTO refresh_tokens_v3 (token_hash, session_id, expires_at, used_at)
  SELECT token_hash, session_id, expires_at, used_at FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_v3 RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);
CREATE TABLE access_tokens_v3 (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO access_tokens_v3 (token_hash, session_id, issued_at, expires_at)
  SELECT token_hash, session_id, issued_at, expires_at FROM access_tokens;
DROP TABLE access_tokens;
ALTER TABLE access_tokens_v3 RENAME TO access_tokens;
CREATE INDEX access_tokens_session ON access_tokens(session_id);
`,
  },
];
