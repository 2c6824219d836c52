// Ceilings: the least work each Gatehouse hot path must do, on the same Fastify, so Gatehouse is
// reported as a ratio to them. One process per ceiling:
//
//   floor    a bare route returning the same JSON (same schema) as GET /api/auth/scopes for bob
//   jose     + verifying one EdDSA JWT per request (jose, like Gatehouse)
//   sqlite   + sha256 of an API key and one indexed SELECT (node:sqlite, WAL)
//   argon2   one argon2id hash per request (@node-rs/argon2, m=19456, t=2, p=1), form body,
//            at most two at once (Gatehouse's default passwordConcurrency)
//   refresh  SELECT (token joined to its session) + UPDATE + INSERT (one transaction, node:sqlite)
//            + one EdDSA sign
//
// usage: node bench/servers/ceiling.ts <kind> <data dir> [refresh token pool file]
// The scopes body comes in the environment as BENCH_SCOPES_BODY (JSON).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { hash, verify } from '@node-rs/argon2';
import { announce, closeOnTerm, SCOPES_SCHEMA } from './common.ts';

const [kind, dir, poolFile] = process.argv.slice(2);
if (!kind || !dir) throw new Error('usage: ceiling.ts <floor|jose|sqlite|argon2|refresh> <data dir> [pool file]');

const ISSUER = 'gatehouse';
const scopesBody = JSON.parse(process.env.BENCH_SCOPES_BODY ?? '{"roles":[],"scopes":[]}') as { roles: string[]; scopes: string[] };
const sha256Hex = (value: string | Buffer) => createHash('sha256').update(value).digest('hex');

function openDb(file: string): DatabaseSync {
  const db = new DatabaseSync(join(dir as string, file));
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  return db;
}

/** Claims shaped like a Gatehouse access token, so the token is the same size. */
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

async function signAccess(privateKey: PrivateKey, kid: string, sub: string, sid: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ type: 'access', sid, sub_typ: 'user', ids: [{ id: 'bob', idp: 'local' }] })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .setJti(randomUUID())
    .sign(privateKey);
}

const app: FastifyInstance = Fastify();
const fixtures: Record<string, string> = {};
const cleanups: (() => void)[] = [];
const scopesRoute = {
  schema: { response: { 200: SCOPES_SCHEMA, 401: { type: 'object', properties: { detail: { type: 'string' } } } } },
} as const;

switch (kind) {
  case 'floor': {
    app.get('/api/auth/scopes', scopesRoute, async () => scopesBody);
    break;
  }
  case 'jose': {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const kid = randomUUID();
    fixtures.token = await signAccess(privateKey, kid, randomUUID(), randomUUID());
    app.get('/api/auth/scopes', scopesRoute, async (request, reply) => {
      const header = request.headers.authorization ?? '';
      try {
        await jwtVerify(header.slice('Bearer '.length), publicKey, { algorithms: ['EdDSA'], issuer: ISSUER });
      } catch {
        return reply.code(401).send({ detail: 'Could not validate credentials' });
      }
      return scopesBody;
    });
    break;
  }
  case 'sqlite': {
    const db = openDb('ceiling-sqlite.db');
    cleanups.push(() => db.close());
    db.exec('CREATE TABLE api_keys (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, secret_hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, expires_at INTEGER)');
    const insert = db.prepare('INSERT INTO api_keys (id, principal_id, secret_hash, scopes, expires_at) VALUES (?, ?, ?, ?, NULL)');
    db.exec('BEGIN');
    let secret = '';
    for (let i = 0; i < 1000; i++) {
      secret = randomBytes(36).toString('hex');
      insert.run(randomUUID(), randomUUID(), sha256Hex(Buffer.from(secret, 'hex')), '["inherit"]');
    }
    db.exec('COMMIT');
    fixtures.apiKey = secret;
    const select = db.prepare('SELECT * FROM api_keys WHERE secret_hash = ?');
    app.get('/api/auth/scopes', scopesRoute, async (request, reply) => {
      const header = request.headers.authorization ?? '';
      const row = select.get(sha256Hex(Buffer.from(header.slice('Apikey '.length), 'hex')));
      if (!row) return reply.code(401).send({ detail: 'Invalid API key' });
      return scopesBody;
    });
    break;
  }
  case 'argon2': {
    await app.register(formbody);
    const options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
    const phc = await hash('bob_password', options);
    // At most two hashes at once on the libuv pool, as Gatehouse's default passwordConcurrency:
    // the same number of hashing threads compete for the core (and for it with other processes).
    const limit = Number(process.env.BENCH_ARGON2_CONCURRENCY ?? 2);
    let active = 0;
    const waiting: (() => void)[] = [];
    app.post('/api/auth/provider/local/token', async (request, reply) => {
      const body = request.body as { password?: string };
      while (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      let ok: boolean;
      try {
        ok = await verify(phc, body.password ?? '');
      } finally {
        active--;
        waiting.shift()?.();
      }
      if (!ok) return reply.code(401).send({ detail: 'Incorrect username or password' });
      return { access_token: 'x', token_type: 'bearer' };
    });
    break;
  }
  case 'refresh': {
    if (!poolFile) throw new Error('the refresh ceiling needs the refresh token pool file');
    const db = openDb('ceiling-refresh.db');
    cleanups.push(() => db.close());
    db.exec(`CREATE TABLE sessions (id TEXT PRIMARY KEY, principal_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
      revoked_at INTEGER, last_refreshed_at INTEGER, refresh_count INTEGER NOT NULL DEFAULT 0)`);
    db.exec(`CREATE TABLE refresh_tokens (token_hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER)`);
    const now = Date.now();
    const principal = randomUUID();
    const insertSession = db.prepare('INSERT INTO sessions (id, principal_id, expires_at) VALUES (?, ?, ?)');
    const insertToken = db.prepare('INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES (?, ?, ?, NULL)');
    db.exec('BEGIN');
    for (const token of readFileSync(poolFile, 'utf8').split('\n')) {
      if (!token) continue;
      const sid = randomUUID();
      insertSession.run(sid, principal, now + 86400_000);
      insertToken.run(sha256Hex(token), sid, now + 86400_000);
    }
    db.exec('COMMIT');
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const kid = randomUUID();
    const select = db.prepare(`SELECT t.session_id, t.used_at, t.expires_at, s.principal_id, s.revoked_at
      FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = ?`);
    const markUsed = db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL');
    app.post('/api/auth/session/refresh', async (request, reply) => {
      const presented = (request.body as { refresh_token?: string }).refresh_token ?? '';
      const tokenHash = sha256Hex(presented);
      const at = Date.now();
      const row = select.get(tokenHash) as { session_id: string; used_at: number | null; principal_id: string } | undefined;
      if (!row || row.used_at !== null) return reply.code(401).send({ detail: 'Session has expired. Please re-authenticate.' });
      const next = randomBytes(32).toString('base64url');
      db.exec('BEGIN IMMEDIATE');
      try {
        markUsed.run(at, tokenHash);
        insertToken.run(sha256Hex(next), row.session_id, at + 86400_000);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
      const access = await signAccess(privateKey, kid, row.principal_id, row.session_id);
      return { access_token: access, refresh_token: next, token_type: 'bearer', expires_in: 900, refresh_token_expires_in: 604800 };
    });
    break;
  }
  default:
    throw new Error(`unknown ceiling "${kind}"`);
}

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
closeOnTerm(async () => {
  await app.close();
  for (const cleanup of cleanups) cleanup();
});
announce(`http://127.0.0.1:${port}`, fixtures);
