// No TPP token is stored in clear: after authorizations, refreshes and a revocation, the SQLite
// database files (main file and write-ahead log) hold none of the access tokens, refresh tokens
// or passwords, in text or in raw bytes — only their digests.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { harness } from '../../helpers.ts';
import { authorizeRequest, refreshRequest, revokeRequest, VENAFI_BUNDLE, type TokenJson } from './fixtures.ts';

describe('TPP secrets at rest (SQLite)', () => {
  test('database files hold no access token, refresh token or password, only digests', async () => {
    // Always SQLite here, whatever backend the other harnesses use: this reads the file.
    const dbDir = mkdtempSync(join(tmpdir(), 'gatehouse-tpp-secrets-'));
    const dbPath = join(dbDir, 'gatehouse.db');
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const h = await harness({
      databaseUrl: `sqlite:${dbPath}`,
      bundle: VENAFI_BUNDLE.replace(
        'users:\n',
        `users:\n  - { username: yara, password: "${password}", roles: [cert-manager] }\n`,
      ),
    });
    try {
      const tokens: TokenJson[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await authorizeRequest(h, { client_id: 'vcert-cli', username: 'yara', password, scope: 'certificate:manage,revoke' });
        assert.equal(res.statusCode, 200, res.body);
        const first = res.json<TokenJson>();
        tokens.push(first);
        const next = await refreshRequest(h, 'vcert-cli', first.refresh_token ?? '');
        assert.equal(next.statusCode, 200, next.body);
        tokens.push(next.json<TokenJson>());
      }
      assert.equal((await revokeRequest(h, tokens[0]?.access_token ?? '')).statusCode, 200);

      const files = readdirSync(dbDir).filter((f) => f.startsWith('gatehouse.db'));
      assert.ok(existsSync(`${dbPath}-wal`), 'the write-ahead log is there to be searched too');
      const bytes = Buffer.concat(files.map((f) => readFileSync(join(dbDir, f))));

      // the search works: what is stored in clear is found, and so are the digests
      for (const visible of ['yara', 'vcert-cli', 'certificate:manage,revoke']) {
        assert.ok(bytes.includes(Buffer.from(visible)), `expected to find ${visible}`);
      }
      for (const t of tokens) {
        const digest = createHash('sha256').update(t.access_token).digest('hex');
        assert.ok(bytes.includes(Buffer.from(digest)), 'the access token digest is stored');
      }

      const needles: { what: string; value: Buffer }[] = [{ what: 'password', value: Buffer.from(password) }];
      for (const t of tokens) {
        needles.push({ what: 'access token', value: Buffer.from(t.access_token) });
        needles.push({ what: 'access token bytes', value: Buffer.from(t.access_token, 'base64') });
        needles.push({ what: 'refresh token', value: Buffer.from(t.refresh_token ?? '') });
        needles.push({ what: 'refresh token bytes', value: Buffer.from(t.refresh_token ?? '', 'base64url') });
      }
      for (const n of needles) assert.ok(!bytes.includes(n.value), `${n.what} found in the database files`);
    } finally {
      await h.close();
      rmSync(dbDir, { recursive: true, force: true });
    }
  });
});
