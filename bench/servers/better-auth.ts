// Peer: better-auth's API-key plugin, verifying one key per request (SQLite through node:sqlite),
// wrapped in a Fastify route. Its global rate limiter and the per-key limit (10 requests a day by
// default) are switched off, or the benchmark would measure 429s.
//
// usage: node bench/servers/better-auth.ts <data dir>

import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import Fastify from 'fastify';
import { announce, closeOnTerm, importPeer } from './common.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: better-auth.ts <data dir>');

const { betterAuth } = await importPeer('better-auth');
const { getMigrations } = await importPeer('better-auth/db/migration');
const { apiKey } = await importPeer('@better-auth/api-key');

const db = new DatabaseSync(join(dir, 'better-auth.db'));
db.exec('PRAGMA journal_mode = WAL');
db.exec('PRAGMA synchronous = NORMAL');

const auth = betterAuth({
  database: db,
  baseURL: 'http://127.0.0.1',
  secret: 'bench-secret-bench-secret-bench-secret-0123456789',
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { disabled: true },
  plugins: [apiKey({ rateLimit: { enabled: false } })],
});
const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const signUp = await auth.api.signUpEmail({
  body: { email: 'bob@example.org', password: 'bob_password', name: 'bob' },
});
const created = await auth.api.createApiKey({ body: { userId: signUp.user.id, name: 'bench' } });
const check = await auth.api.verifyApiKey({ body: { key: created.key } });
if (!check.valid) throw new Error(`better-auth rejected its own key: ${JSON.stringify(check.error)}`);

const app = Fastify();
app.get('/verify', async (request, reply) => {
  const key = request.headers['x-api-key'];
  const result = await auth.api.verifyApiKey({ body: { key: typeof key === 'string' ? key : '' } });
  if (!result.valid) return reply.code(401).send({ valid: false });
  return { valid: true, userId: result.key.referenceId ?? result.key.userId, permissions: result.key.permissions };
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
closeOnTerm(async () => {
  await app.close();
  db.close();
});
announce(`http://127.0.0.1:${port}`, { apiKey: created.key });
