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

/** `n` random version-4 UUIDs, sorted (random values, inserted in key order). */
function sortedUuids(n: number): string[] {
  const ids = Array.from({ length: n }, () => randomUUID());
  return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `n` random `bytes`-byte values as hex, sorted. */
function sortedRandomHex(n: number, bytes: number): string[] {
  const pool = randomBytes(n * bytes);
  const out = Array.from({ length: n }, (_, i) => pool.toString('hex', i * bytes, (i + 1) * bytes));
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `n` random values of `bytes` bytes as hex, each with its sha256 hex digest, sorted by digest. */
function secretsByDigest(n: number, bytes: number): { secret: string; digest: string }[] {
  const pool = randomBytes(n * bytes);
  const out = new Array<{ secret: string; digest: string }>(n);
  for (let i = 0; i < n; i++) {
    const raw = pool.subarray(i * bytes, (i + 1) * bytes);
    out[i] = { secret: raw.toString('hex'), digest: sha256Hex(raw) };
  }
  return out.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}

/**
 * Writes `principals` users (plus a user with HEAVY_SESSIONS sessions and one with a single
 * session). Every id, secret and digest is random; rows are inserted in key order and the
 * secondary indexes are built after the load, which is what makes a million principals quick.
 */
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

  // users[0 .. principals-1] are ordinary; then the heavy and the light user.
  const total = principals + 2;
  const heavy = principals;
  const light = principals + 1;
  const username = (i: number) => (i === heavy ? 'heavy-user' : i === light ? 'light-user' : `user${String(i).padStart(7, '0')}`);
  const ids = sortedUuids(total);
  const keyIds = sortedUuids(total);
  const keys = secretsByDigest(total, 36);
  const sessionCount = principals + HEAVY_SESSIONS + 1;
  const sessionIds = sortedUuids(sessionCount);
  // Session k belongs to user k, except the heavy user's (spread over the id range) and the light user's.
  const owner = new Int32Array(sessionCount);
  for (let k = 0; k < sessionCount; k++) owner[k] = k;
  const extra = Array.from({ length: HEAVY_SESSIONS + 1 }, (_, j) => principals + j);
  for (let j = 0; j < extra.length; j++) {
    const a = extra[j] as number;
    const b = Math.floor(Math.random() * (a + 1));
    const t = owner[a] as number;
    owner[a] = owner[b] as number;
    owner[b] = t;
  }
  for (let k = 0; k < sessionCount; k++) {
    const o = owner[k] as number;
    if (o >= principals) owner[k] = o === principals + HEAVY_SESSIONS ? light : heavy;
  }
  // A digest of an unknown random token is itself a random 32-byte value.
  const refreshDigests = sortedRandomHex(sessionCount, 32);
  const firstSession = new Map<number, string>();
  for (let k = 0; k < sessionCount; k++) if (!firstSession.has(owner[k] as number)) firstSession.set(owner[k] as number, sessionIds[k] as string);

  const db = new DatabaseSync(path);
  let rows = 0;
  try {
    db.exec('PRAGMA synchronous = OFF');
    db.exec('PRAGMA cache_size = -262144');
    const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as { name: string; sql: string }[];
    db.exec('BEGIN');
    for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);
    const run = (sql: string, count: number, values: (i: number) => (string | number | null)[]) => {
      const stmt = db.prepare(sql);
      for (let i = 0; i < count; i++) stmt.run(...values(i));
      rows += count;
    };
    run('INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?, NULL)', 1, () => [
      signingKey.kid,
      signingKey.alg,
      JSON.stringify(signingKey.publicJwk),
      JSON.stringify(signingKey.privateJwk),
      now,
    ]);
    run('INSERT INTO groups (name, roles, attributes) VALUES (?, ?, ?)', GROUPS, (g) => [
      groupName(g),
      JSON.stringify([ROLES[g % ROLES.length]]),
      JSON.stringify({ description: `team ${g}` }),
    ]);
    run(
      `INSERT INTO principals (id, type, username, email, password_hash, disabled, admin, ip_filter, created_at, updated_at)
       VALUES (?, 'user', ?, ?, ?, 0, 0, NULL, ?, ?)`,
      total,
      (i) => [ids[i] as string, username(i), `${username(i)}@example.org`, passwordHash, now, now],
    );
    run('INSERT INTO principal_roles (principal_id, role) VALUES (?, ?)', total, (i) => [ids[i] as string, ROLES[i % ROLES.length] as string]);
    run('INSERT INTO group_members (principal_id, group_name) VALUES (?, ?)', total, (i) => [ids[i] as string, groupName(i % GROUPS)]);
    run("INSERT INTO identities (provider, external_id, principal_id, latest_login) VALUES ('local', ?, ?, ?)", total, (i) => [username(i), ids[i] as string, now]);
    // api_keys rows in id order; key k goes to user k, its secret comes in digest order.
    run(
      `INSERT INTO api_keys (id, principal_id, first_eight, secret_hash, scopes, note, expires_at, created_at, latest_activity)
       VALUES (?, ?, ?, ?, '["inherit"]', NULL, NULL, ?, NULL)`,
      total,
      (k) => [keyIds[k] as string, ids[k] as string, (keys[k] as { secret: string }).secret.slice(0, 8), (keys[k] as { digest: string }).digest, now],
    );
    run(
      'INSERT INTO sessions (id, principal_id, created_at, expires_at, revoked_at, last_refreshed_at, refresh_count) VALUES (?, ?, ?, ?, NULL, NULL, 0)',
      sessionCount,
      (k) => [sessionIds[k] as string, ids[owner[k] as number] as string, now, now + 365 * DAY],
    );
    run('INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES (?, ?, ?, NULL)', sessionCount, (k) => [
      refreshDigests[k] as string,
      sessionIds[(k * 7919) % sessionCount] as string,
      now + 7 * DAY,
    ]);
    for (const index of indexes) db.exec(index.sql);
    db.exec('COMMIT');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw error;
  } finally {
    db.close();
  }

  const step = Math.max(1, Math.floor(principals / sample));
  const sampled: number[] = [];
  for (let i = 0; i < principals && sampled.length < sample; i += step) sampled.push(i);
  const apiKeyFile = join(dir, 'apikeys.txt');
  writeFileSync(apiKeyFile, `${sampled.map((i) => (keys[i] as { secret: string }).secret).join('\n')}\n`);
  const jwts: string[] = [];
  for (const i of sampled) {
    const claims = { type: 'access', sid: firstSession.get(i), sub_typ: 'user', ids: [{ id: username(i), idp: 'local' }] };
    jwts.push(await ring.sign(claims, ids[i] as string, now, 3600));
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
    heavyKey: (keys[heavy] as { secret: string }).secret,
    lightKey: (keys[light] as { secret: string }).secret,
  };
}

const groupName = (g: number) => `team-${String(g).padStart(3, '0')}`;

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
    groups: Array.from({ length: GROUPS }, (_, g) => ({ name: groupName(g), roles: [ROLES[g % ROLES.length]] })),
    users: Array.from({ length: users }, (_, i) => ({
      username: `user${String(i).padStart(7, '0')}`,
      password: passwordHash,
      email: `user${i}@example.org`,
      roles: [ROLES[i % ROLES.length]],
      groups: [groupName(i % GROUPS)],
    })),
  };
  writeFileSync(file, JSON.stringify(bundle));
}
