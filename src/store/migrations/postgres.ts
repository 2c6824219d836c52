// Versioned schema of the PostgreSQL backend: the same tables and meaning as the SQLite schema.
// Times are BIGINT ms since epoch; JSON values are kept as text so they read back byte for byte
// (jsonb would reorder object keys); key columns use the "C" collation so ordering and keyset
// pagination match SQLite's binary comparison. Append new versions; never edit a released one.

import type { Migration } from './sqlite.ts';

export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE principals (
  id TEXT COLLATE "C" PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('user', 'service')),
  username TEXT COLLATE "C" NOT NULL UNIQUE,
  email TEXT,
  password_hash TEXT,
  disabled BOOLEAN NOT NULL DEFAULT FALSE,
  admin BOOLEAN NOT NULL DEFAULT FALSE,
  ip_filter TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE principal_roles (
  principal_id TEXT COLLATE "C" NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  role TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (principal_id, role)
);
CREATE TABLE group_members (
  principal_id TEXT COLLATE "C" NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  group_name TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (principal_id, group_name)
);
CREATE INDEX group_members_group ON group_members(group_name);
CREATE TABLE identities (
  provider TEXT COLLATE "C" NOT NULL,
  external_id TEXT COLLATE "C" NOT NULL,
  principal_id TEXT COLLATE "C" NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  latest_login BIGINT,
  PRIMARY KEY (provider, external_id)
);
CREATE INDEX identities_principal ON identities(principal_id);
CREATE TABLE roles (
  name TEXT COLLATE "C" PRIMARY KEY,
  scopes TEXT NOT NULL,
  description TEXT
);
CREATE TABLE groups (
  name TEXT COLLATE "C" PRIMARY KEY,
  roles TEXT NOT NULL,
  attributes TEXT NOT NULL
);
CREATE TABLE sessions (
  id TEXT COLLATE "C" PRIMARY KEY,
  principal_id TEXT COLLATE "C" NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT,
  last_refreshed_at BIGINT,
  refresh_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_principal ON sessions(principal_id);
CREATE TABLE refresh_tokens (
  token_hash TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);
CREATE TABLE api_keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  principal_id TEXT COLLATE "C" NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  first_eight TEXT COLLATE "C" NOT NULL,
  secret_hash TEXT COLLATE "C" NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  note TEXT,
  expires_at BIGINT,
  created_at BIGINT NOT NULL,
  latest_activity BIGINT
);
CREATE INDEX api_keys_principal ON api_keys(principal_id, first_eight);
CREATE TABLE signing_keys (
  kid TEXT COLLATE "C" PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_jwk TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT
);
`,
  },
  {
    version: 2,
    name: 'Venafi TPP grants: applications, access tokens, settings',
    sql: `
CREATE TABLE applications (
  client_id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT,
  scopes TEXT NOT NULL,
  access_token_ttl BIGINT NOT NULL,
  grant_ttl BIGINT NOT NULL,
  allow_refresh BOOLEAN NOT NULL
);
ALTER TABLE sessions ADD COLUMN client_id TEXT COLLATE "C" REFERENCES applications(client_id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN scope TEXT;
CREATE INDEX sessions_client ON sessions(client_id);
CREATE TABLE access_tokens (
  token_hash TEXT COLLATE "C" PRIMARY KEY,
  session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX access_tokens_session ON access_tokens(session_id);
CREATE TABLE settings (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
];
