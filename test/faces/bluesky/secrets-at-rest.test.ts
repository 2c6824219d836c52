// No secret is stored in clear: after logins, refreshes and API keys, the SQLite database
// files (main file and write-ahead log) contain none of the passwords, API key secrets or
// refresh tokens, in text or in raw bytes.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { harness } from '../../helpers.ts';
import { apikey, bearer, createKey, login, PREFIX, send, uuidOf, type CreatedKey, type Tokens } from './fixtures.ts';

describe('secrets at rest (SQLite)', () => {
  test('database files hold no password, API key secret or refresh token', async () => {
    // Always SQLite here, whatever backend the other harnesses use: this reads the file.
    const dbDir = mkdtempSync(join(tmpdir(), 'gatehouse-secrets-'));
    const dbPath = join(dbDir, 'gatehouse.db');
    const h = await harness({ databaseUrl: `sqlite:${dbPath}` });
    try {
      const users = ['vera', 'walt', 'xena'].map((username) => ({ username, password: `pw-${username}-${randomBytes(12).toString('hex')}` }));
      for (const u of users) await h.services.users.add({ ...u, roles: ['admin', 'expert'] });
      const bundlePassword = `bundle-${randomBytes(12).toString('hex')}`;
      await h.services.bundles.applyText(`users:\n  - { username: yuri, password: "${bundlePassword}", roles: [user] }\n`, 'test');
      const passwords = [...users.map((u) => u.password), bundlePassword];

      const tokens: Tokens[] = [];
      const keys: CreatedKey[] = [];
      for (const u of [...users, { username: 'yuri', password: bundlePassword }]) {
        const t = await login(h.app, u.username, u.password);
        tokens.push(t);
        keys.push(await createKey(h, bearer(t.access_token), { note: `note-of-${u.username}` }));
        // a refresh writes a new refresh token; keep both the used and the current one
        const r = await send(h, { method: 'POST', url: `${PREFIX}/session/refresh`, payload: { refresh_token: t.refresh_token } });
        assert.equal(r.statusCode, 200);
        tokens.push(r.json<Tokens>());
      }
      const minted = await send(h, { method: 'POST', url: `${PREFIX}/principal/${await uuidOf(h, 'yuri')}/apikey`, headers: bearer(tokens[0]?.access_token ?? ''), payload: {} });
      assert.equal(minted.statusCode, 200);
      keys.push(minted.json<CreatedKey>());
      for (const k of keys) assert.equal((await send(h, { method: 'GET', url: `${PREFIX}/scopes`, headers: apikey(k.secret) })).statusCode, 200);
      await h.services.activity.flush();

      const files = readdirSync(dbDir).filter((f) => f.startsWith('gatehouse.db'));
      assert.ok(files.includes('gatehouse.db'));
      assert.ok(existsSync(`${dbPath}-wal`), 'the write-ahead log is there to be searched too');
      const bytes = Buffer.concat(files.map((f) => readFileSync(join(dbDir, f))));

      // the search works: things that are stored in clear are found
      for (const visible of ['vera', 'note-of-walt', keys[0]?.first_eight ?? '??']) {
        assert.ok(bytes.includes(Buffer.from(visible)), `expected to find ${visible}`);
      }

      const needles: { what: string; value: Buffer }[] = [];
      for (const p of passwords) needles.push({ what: 'password', value: Buffer.from(p) });
      for (const k of keys) {
        needles.push({ what: 'API key secret', value: Buffer.from(k.secret) });
        needles.push({ what: 'API key secret (upper case)', value: Buffer.from(k.secret.toUpperCase()) });
        needles.push({ what: 'API key secret past its first eight', value: Buffer.from(k.secret.slice(8)) });
        needles.push({ what: 'API key secret bytes', value: Buffer.from(k.secret, 'hex') });
      }
      for (const t of tokens) {
        needles.push({ what: 'refresh token', value: Buffer.from(t.refresh_token) });
        needles.push({ what: 'refresh token bytes', value: Buffer.from(t.refresh_token, 'base64url') });
        needles.push({ what: 'access token', value: Buffer.from(t.access_token) });
      }
      for (const n of needles) assert.ok(!bytes.includes(n.value), `${n.what} found in the database files`);
    } finally {
      await h.close();
      rmSync(dbDir, { recursive: true, force: true });
    }
  });
});
