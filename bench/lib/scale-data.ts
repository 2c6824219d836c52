// Generated data for the scale benchmark, written straight into Gatehouse's SQLite file with
// node:sqlite in one transaction (the schema comes from the store's own migrations). Every row
// is one the real server accepts: API keys keep sha256(secret bytes) as hex (src/auth/secrets.ts),
// refresh tokens sha256 of the token string, access tokens are signed by a key in signing_keys.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { hash } from '@node-rs/argon2';
import { generateSigningKey, KeyRing } from '../../src/auth/jwt.ts';
import { openStore } from '../../src/store/open.ts';

export const GROUPS = 100;
const ROLES = ['user', 'observer', 'advanced', 'expert'];
export const HEAVY_SESSIONS = 10_000;
const DAY = 86400_000;

/** One argon2id PHC string at Gatehouse's default parameters, shared by all generated users. */
let phc: Promise<string> | null = null;
export function sharedPasswordHash(): Promise<string> {
  phc ??= hash('generated-user-password', { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  return phc;
}

export interface ScaleData {
  readonly principals: number;
  readonly rows: number;
  readonly generateMs: number;
  readonly dbBytes: number;
  /** A file of API key secrets of principals spread over the whole population, one per line. */
  readonly apiKeyPool: { readonly file: string; readonly size: number };
  /** A file of access tokens (with live sessions) of the same principals. */
  readonly jwtPool: { readonly file: string; readonly size: number };
  /** API keys of a user with HEAVY_SESSIONS sessions and of a user with one. */
  readonly heavyKey: string;
  readonly lightKey: string;
}

const sha256Hex = (value: string | Buffer) => createHash('sha256').update(value).digest('hex');

export async function generateScaleData(dir: string, principals: number, sample = 5_000): Promise<ScaleData> {
  const started = performance.now();
  const path = join(dir, 'gatehouse.db');
  const store = await openStore(`sqlite:${path}`, { pollIntervalMs: 0 });
  await store.migrate();
  await store.close();

  const now = Date.now();
  const passwordHash = await sharedPasswordHash();
  const signingKey = await generateSigningKey(now);
  const ring = await KeyRing.load([signingKey], now, 3600_000, 'gatehouse');

  const db = new DatabaseSync(path);
  db.exec('PRAGMA synchronous = OFF');
  db.exec('PRAGMA cache_size = -262144');
  const insertPrincipal = db.prepare(
    `INSERT INTO principals (id, type, username, email, password_hash, disabled, admin, ip_filter, created_at, updated_at)
     VALUES (?, 'user', ?, ?, ?, 0, 0, NULL, ?, ?)`,
  );
  const insertRole = db.prepare('INSERT INTO principal_roles (principal_id, role) VALUES (?, ?)');
  const insertMember = db.prepare('INSERT INTO group_members (principal_id, group_name) VALUES (?, ?)');
  const insertIdentity = db.prepare("INSERT INTO identities (provider, external_id, principal_id, latest_login) VALUES ('local', ?, ?, ?)");
  const insertKey = db.prepare(
    `INSERT INTO api_keys (id, principal_id, first_eight, secret_hash, scopes, note, expires_at, created_at, latest_activity)
     VALUES (?, ?, ?, ?, '["inherit"]', NULL, NULL, ?, NULL)`,
  );
  const insertSession = db.prepare(
    'INSERT INTO sessions (id, principal_id, created_at, expires_at, revoked_at, last_refreshed_at, refresh_count) VALUES (?, ?, ?, ?, NULL, NULL, 0)',
  );
  const insertRefresh = db.prepare('INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES (?, ?, ?, NULL)');
  let rows = 0;

  const addPrincipal = (username: string, index: number, sessions: number) => {
    const id = randomUUID();
    insertPrincipal.run(id, username, `${username}@example.org`, passwordHash, now, now);
    insertRole.run(id, ROLES[index % ROLES.length] as string);
    insertMember.run(id, `team-${String(index % GROUPS).padStart(3, '0')}`);
    insertIdentity.run(username, id, now);
    const secret = randomBytes(36).toString('hex');
    insertKey.run(randomUUID(), id, secret.slice(0, 8), sha256Hex(Buffer.from(secret, 'hex')), now);
    let sid = '';
    for (let s = 0; s < sessions; s++) {
      sid = randomUUID();
      insertSession.run(sid, id, now, now + 365 * DAY);
      insertRefresh.run(sha256Hex(randomBytes(32).toString('base64url')), sid, now + 7 * DAY);
    }
    rows += 5 + 2 * sessions;
    return { id, username, secret, sid };
  };

  const sampled: { id: string; username: string; secret: string; sid: string }[] = [];
  const step = Math.max(1, Math.floor(principals / sample));
  db.exec('BEGIN');
  try {
    db.prepare('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?, NULL)').run(
      signingKey.kid,
      signingKey.alg,
      JSON.stringify(signingKey.publicJwk),
      JSON.stringify(signingKey.privateJwk),
      now,
    );
    const insertGroup = db.prepare('INSERT INTO groups (name, roles, attributes) VALUES (?, ?, ?)');
    for (let g = 0; g < GROUPS; g++) {
      insertGroup.run(`team-${String(g).padStart(3, '0')}`, JSON.stringify([ROLES[g % ROLES.length]]), JSON.stringify({ description: `team ${g}` }));
    }
    for (let i = 0; i < principals; i++) {
      const p = addPrincipal(`user${String(i).padStart(7, '0')}`, i, 1);
      if (i % step === 0 && sampled.length < sample) sampled.push(p);
    }
    const heavy = addPrincipal('heavy-user', 0, HEAVY_SESSIONS);
    const light = addPrincipal('light-user', 0, 1);
    db.exec('COMMIT');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    db.close();

    const apiKeyFile = join(dir, 'apikeys.txt');
    writeFileSync(apiKeyFile, `${sampled.map((p) => p.secret).join('\n')}\n`);
    const jwts: string[] = [];
    for (const p of sampled) {
      jwts.push(await ring.sign({ type: 'access', sid: p.sid, sub_typ: 'user', ids: [{ id: p.username, idp: 'local' }] }, p.id, now, 3600));
    }
    const jwtFile = join(dir, 'jwts.txt');
    writeFileSync(jwtFile, `${jwts.join('\n')}\n`);
    return {
      principals,
      rows,
      generateMs: performance.now() - started,
      dbBytes: dbSize(path),
      apiKeyPool: { file: apiKeyFile, size: sampled.length },
      jwtPool: { file: jwtFile, size: jwts.length },
      heavyKey: heavy.secret,
      lightKey: light.secret,
    };
  } catch (error) {
    if (db.isOpen) {
      db.exec('ROLLBACK');
      db.close();
    }
    throw error;
  }
}

/** The database file with its WAL and shared-memory files. */
export function dbSize(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(`${path}${suffix}`).size;
    } catch {
      // absent
    }
  }
  return total;
}

/** A bundle of `users` users (pre-hashed passwords), GROUPS groups, JSON. */
export async function writeBundle(file: string, users: number): Promise<void> {
  const passwordHash = await sharedPasswordHash();
  const bundle = {
    groups: Array.from({ length: GROUPS }, (_, g) => ({ name: `team-${String(g).padStart(3, '0')}`, roles: [ROLES[g % ROLES.length]] })),
    users: Array.from({ length: users }, (_, i) => ({
      username: `user${String(i).padStart(7, '0')}`,
      password: passwordHash,
      email: `user${i}@example.org`,
      roles: [ROLES[i % ROLES.length]],
      groups: [`team-${String(i % GROUPS).padStart(3, '0')}`],
    })),
  };
  writeFileSync(file, JSON.stringify(bundle));
}
