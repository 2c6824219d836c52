// gatehouse copy: a SQLite deployment moved to PostgreSQL keeps every object — the exports of
// both match, every session and TPP grant, refresh and access token, API key (with its last use),
// identity, signing key, application and the scope catalog is there — and what was issued before
// the move keeps working after it.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { EXIT } from '../../src/cli/errors.ts';
import type { Io } from '../../src/cli/io.ts';
import { run } from '../../src/cli/main.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store } from '../../src/store/store.ts';
import { apikey, bearer, harness, login } from '../helpers.ts';
import { createSchema, needPostgres } from '../pg.ts';

const BUNDLE = `
roles:
  - { name: expert, scopes: [read:status, write:queue:edit, "certificate:manage,revoke"], description: experts }
  - { name: viewer, scopes: [read:status] }
groups:
  - name: Editors
    roles: [viewer]
    entityGroups: { java-virtual-machine: READ }
    allEntitiesRead: false
    allEntitiesWrite: true
    portals: [ATSD]
  - { name: Auditors, roles: [] }
users:
  - { username: bob, password: bob_password, email: bob@example.org, roles: [admin, expert], groups: [Editors], ipFilter: "127.0.0.0/8" }
  - { username: alice, password: alice_password, roles: [user], groups: [Editors, Auditors] }
  - { username: carol, password: carol_password, roles: [observer], disabled: true }
  - { username: svc-backup, type: service, roles: [viewer], admin: true }
applications:
  - { clientId: vcert-cli, scopes: "certificate:manage,revoke", name: VCert }
scopeCatalog:
  - { scope: certificate, restrictions: [manage, revoke] }
  - { scope: ssh, restrictions: [manage] }
`;

interface Captured {
  io: Io;
  stdout: () => string;
  stderr: () => string;
}

function capture(options: { terminal?: boolean } = {}): Captured {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), options.terminal ? { isTTY: true } : {});
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const stdin = new PassThrough();
  stdin.end();
  return {
    io: { stdout, stderr, stdin, env: { HOME: tmpdir() } },
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}

async function cli(args: string[], options: { terminal?: boolean } = {}) {
  const c = capture(options);
  const code = await run(args, c.io);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

/** Every stored object of a store, in a stable order, for deep comparison. */
async function snapshot(store: Store) {
  const principals = await store.listPrincipals();
  return {
    roles: await store.listRoles(),
    groups: await store.listGroups(),
    signingKeys: await store.listSigningKeys(),
    applications: await store.listApplications(),
    scopeCatalog: await store.getScopeCatalog(),
    principals: await Promise.all(
      principals.map(async (p) => ({
        principal: p,
        identities: await store.listIdentities(p.id),
        apiKeys: await store.listApiKeys(p.id),
        sessions: await Promise.all(
          (await store.listSessions(p.id)).map(async (s) => ({
            session: s,
            refreshTokens: await store.listRefreshTokens(s.id),
            accessTokens: await store.listAccessTokens(s.id),
          })),
        ),
      })),
    ),
  };
}

/** A SQLite deployment that has been used: logins, a refresh, API keys used, a key rotation. */
async function usedSqliteDeployment(dir: string) {
  const url = `sqlite:${join(dir, 'source.db')}`;
  const h = await harness({ bundle: BUNDLE, databaseUrl: url });
  try {
    const bob = await login(h.app, 'bob', 'bob_password');
    const alice = await login(h.app, 'alice', 'alice_password');
    await login(h.app, 'alice', 'alice_password'); // a second session
    const refreshed = await h.app.inject({
      method: 'POST',
      url: '/api/auth/session/refresh',
      payload: { refresh_token: alice.refresh_token },
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/auth/apikey',
      headers: bearer(bob.access_token),
      payload: { expires_in: 86400, scopes: ['read:status'], note: 'ci key' },
    });
    assert.equal(created.statusCode, 200, created.body);
    const secret = created.json<{ secret: string }>().secret;
    h.clock.advance(5000);
    const used = await h.app.inject({ method: 'GET', url: '/api/auth/whoami', headers: apikey(secret) });
    assert.equal(used.statusCode, 200, used.body);
    // a rotation: one retired key that still verifies, one signing key
    await h.services.keys.rotate();
    const afterRotation = await login(h.app, 'bob', 'bob_password');
    const revoked = await login(h.app, 'bob', 'bob_password');
    const logout = await h.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(revoked.access_token) });
    assert.equal(logout.statusCode, 200, logout.body);
    // a Venafi TPP grant, refreshed once: two access tokens, two refresh tokens
    const grant = await h.app.inject({
      method: 'POST',
      url: '/vedauth/authorize/oauth',
      payload: { client_id: 'vcert-cli', username: 'bob', password: 'bob_password', scope: 'certificate:manage' },
    });
    assert.equal(grant.statusCode, 200, grant.body);
    const tppRefreshed = await h.app.inject({
      method: 'POST',
      url: '/vedauth/authorize/token',
      payload: { client_id: 'vcert-cli', refresh_token: grant.json<{ refresh_token: string }>().refresh_token },
    });
    assert.equal(tppRefreshed.statusCode, 200, tppRefreshed.body);
    const tpp = tppRefreshed.json<{ access_token: string; refresh_token: string }>();
    return { url, bob, afterRotation, apiKeySecret: secret, tpp, clockNow: h.clock.now() };
  } finally {
    await h.close(); // flushes the API key's last use
  }
}

test('gatehouse copy moves a used SQLite deployment to PostgreSQL without losing anything', async (t) => {
  if (!(await needPostgres(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-copy-'));
  const schema = await createSchema('gh_copy');
  const back = await createSchema('gh_copy_back');
  try {
    const source = await usedSqliteDeployment(dir);

    const copy = await cli(['copy', '--from', source.url, '--to', schema.url, '--json']);
    assert.equal(copy.code, EXIT.ok, copy.stderr);
    const report = JSON.parse(copy.stdout) as { copied: Record<string, number>; replaced: boolean; to: string };
    assert.equal(report.replaced, false);
    assert.deepEqual(report.copied, {
      principals: 4,
      roles: 2,
      groups: 2,
      roleAssignments: 5,
      groupMemberships: 3,
      identities: 2, // bob and alice logged in through the local provider
      sessions: 6, // bob x3 and a TPP grant, alice x2
      refreshTokens: 8, // one per login, plus the refreshed one; two of the TPP grant
      accessTokens: 2, // the TPP grant's first and refreshed access tokens
      apiKeys: 1,
      signingKeys: 2,
      applications: 1,
      scopeCatalog: 1,
    });

    // the exports (policy bundles with password hashes) are identical
    const exportOf = async (url: string) => {
      const r = await cli(['export', '--database-url', url, '--format', 'json']);
      assert.equal(r.code, EXIT.ok, r.stderr);
      return r.stdout;
    };
    const sourceExport = await exportOf(source.url);
    assert.match(sourceExport, /\$argon2id\$/, 'the export carries password hashes');
    assert.equal(await exportOf(schema.url), sourceExport);

    // and so is everything the export does not show
    const a = await openStore(source.url, { pollIntervalMs: 0 });
    const b = await openStore(schema.url, { pollIntervalMs: 0 });
    try {
      const [sa, sb] = [await snapshot(a), await snapshot(b)];
      assert.deepEqual(sb, sa);
      const bobKeys = sb.principals.find((p) => p.principal.username === 'bob')?.apiKeys;
      assert.equal(bobKeys?.length, 1);
      assert.equal(typeof bobKeys?.[0]?.latestActivity, 'number', 'the last use of the API key came along');
      assert.ok(sb.principals.some((p) => p.sessions.some((s) => s.session.revokedAt !== null)), 'a revoked session stays revoked');
      assert.ok(sb.principals.some((p) => p.sessions.some((s) => s.refreshTokens.some((r) => r.usedAt !== null))), 'used tokens stay used');
      assert.equal(sb.signingKeys.filter((k) => k.retiredAt !== null).length, 1);
    } finally {
      await a.close();
      await b.close();
    }

    // what was issued before the move still works against the new database
    const h = await harness({ databaseUrl: schema.url });
    try {
      h.clock.set(source.clockNow);
      for (const token of [source.bob.access_token, source.afterRotation.access_token]) {
        const who = await h.app.inject({ method: 'GET', url: '/api/auth/whoami', headers: bearer(token) });
        assert.equal(who.statusCode, 200, who.body);
      }
      const viaKey = await h.app.inject({ method: 'GET', url: '/api/auth/whoami', headers: apikey(source.apiKeySecret) });
      assert.equal(viaKey.statusCode, 200, viaKey.body);
      const verified = await h.app.inject({ method: 'GET', url: '/vedauth/authorize/verify', headers: bearer(source.tpp.access_token) });
      assert.equal(verified.statusCode, 200, verified.body);
      const tppRefresh = await h.app.inject({
        method: 'POST',
        url: '/vedauth/authorize/token',
        payload: { client_id: 'vcert-cli', refresh_token: source.tpp.refresh_token },
      });
      assert.equal(tppRefresh.statusCode, 200, tppRefresh.body);
      const refresh = await h.app.inject({
        method: 'POST',
        url: '/api/auth/session/refresh',
        payload: { refresh_token: source.bob.refresh_token },
      });
      assert.equal(refresh.statusCode, 200, refresh.body);
      await login(h.app, 'alice', 'alice_password'); // password hashes came along
    } finally {
      await h.close();
    }

    // and back again, PostgreSQL to SQLite, with a progress line on a terminal
    const backUrl = `sqlite:${join(dir, 'back.db')}`;
    const original = await openStore(source.url, { pollIntervalMs: 0 });
    const expected = await snapshot(original);
    await original.close();
    // copy the untouched source to a second schema first: the harness above refreshed a token on `schema`
    assert.equal((await cli(['copy', '--from', source.url, '--to', back.url])).code, EXIT.ok);
    const toSqlite = await cli(['copy', '--from', back.url, '--to', backUrl], { terminal: true });
    assert.equal(toSqlite.code, EXIT.ok, toSqlite.stderr);
    assert.match(toSqlite.stderr, /copying principals 4\/4 \(100%\)/);
    assert.match(toSqlite.stdout, /refreshTokens\s+8/);
    assert.match(toSqlite.stdout, /accessTokens\s+2/);
    const roundTrip = await openStore(backUrl, { pollIntervalMs: 0 });
    try {
      assert.deepEqual(await snapshot(roundTrip), expected);
    } finally {
      await roundTrip.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await schema.drop();
    await back.drop();
  }
});

test('gatehouse copy refuses a target that holds data unless --force, which replaces it', async (t) => {
  if (!(await needPostgres(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-copy-'));
  const schema = await createSchema('gh_copy');
  try {
    const sourceUrl = `sqlite:${join(dir, 'source.db')}`;
    const h = await harness({ bundle: BUNDLE, databaseUrl: sourceUrl });
    await h.close();

    // the target already has a user and a role of its own
    const other = await harness({ databaseUrl: schema.url, bundle: 'roles: [{ name: local-only, scopes: [] }]\nusers: [{ username: zed, password: zed_password }]\napplications: [{ clientId: local-app, scopes: agent }]\nscopeCatalog: [{ scope: agent, restrictions: [] }]' });
    await other.close();

    const refused = await cli(['copy', '--from', sourceUrl, '--to', schema.url]);
    assert.equal(refused.code, EXIT.invalid);
    assert.match(refused.stderr, /not empty.*--force/);
    const target = await openStore(schema.url, { pollIntervalMs: 0 });
    try {
      assert.deepEqual((await target.listPrincipals()).map((p) => p.username), ['zed'], 'nothing was written');

      const forced = await cli(['copy', '--from', sourceUrl, '--to', schema.url, '--force', '--json']);
      assert.equal(forced.code, EXIT.ok, forced.stderr);
      const report = JSON.parse(forced.stdout) as { replaced: boolean; copied: { principals: number } };
      assert.equal(report.replaced, true);
      assert.equal(report.copied.principals, 4);
      assert.deepEqual(
        (await target.listPrincipals()).map((p) => p.username),
        ['alice', 'bob', 'carol', 'svc-backup'],
      );
      assert.equal(await target.getRole('local-only'), null, 'the target’s own objects are gone');
      assert.equal(await target.getApplication('local-app'), null, 'the target’s own applications are gone');
      const source = await openStore(sourceUrl, { pollIntervalMs: 0 });
      try {
        assert.deepEqual(await snapshot(target), await snapshot(source));
      } finally {
        await source.close();
      }
    } finally {
      await target.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await schema.drop();
  }
});

test('gatehouse copy: a missing source file or the same database twice is refused before anything is opened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-copy-'));
  try {
    const missing = await cli(['copy', '--from', `sqlite:${join(dir, 'nope.db')}`, '--to', `sqlite:${join(dir, 'to.db')}`]);
    assert.equal(missing.code, EXIT.notFound);
    assert.match(missing.stderr, /does not exist/);
    const same = await cli(['copy', '--from', `sqlite:${join(dir, 'a.db')}`, '--to', `sqlite:${join(dir, 'a.db')}`]);
    assert.equal(same.code, EXIT.usage);
    const usage = await cli(['copy', '--from', `sqlite:${join(dir, 'a.db')}`]);
    assert.equal(usage.code, EXIT.usage, '--to is required');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migrate, apply and export work against PostgreSQL as they do against SQLite', async (t) => {
  if (!(await needPostgres(t))) return;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-pg-'));
  const schema = await createSchema('gh_cli');
  try {
    const first = await cli(['migrate', '--database-url', schema.url, '--json']);
    assert.equal(first.code, EXIT.ok, first.stderr);
    const report = JSON.parse(first.stdout) as { applied: number[]; current: number };
    assert.ok(report.current > 0);
    assert.deepEqual(report.applied, Array.from({ length: report.current }, (_, i) => i + 1));
    const again = await cli(['migrate', '--database-url', schema.url]);
    assert.match(again.stdout, /schema is up to date/);

    const file = join(dir, 'bundle.yaml');
    writeFileSync(file, BUNDLE);
    const sqliteUrl = `sqlite:${join(dir, 'same.db')}`;
    for (const url of [schema.url, sqliteUrl]) {
      const applied = await cli(['apply', file, '--database-url', url, '--json']);
      assert.equal(applied.code, EXIT.ok, applied.stderr);
      assert.equal((JSON.parse(applied.stdout) as { users: { created: number } }).users.created, 4);
      const twice = await cli(['apply', file, '--database-url', url, '--json']);
      assert.equal((JSON.parse(twice.stdout) as { users: { unchanged: number } }).users.unchanged, 4, 'applying twice changes nothing');
    }
    const onPg = await cli(['export', '--database-url', schema.url]);
    const onSqlite = await cli(['export', '--database-url', sqliteUrl]);
    assert.equal(onPg.code, EXIT.ok, onPg.stderr);
    // the same bundle gives the same export, up to the password hashes (salted differently)
    const unsalted = (text: string) => text.replace(/\$argon2id\$[^\s"]+/g, '<hash>');
    assert.equal(unsalted(onPg.stdout), unsalted(onSqlite.stdout));
    assert.match(onPg.stdout, /entityGroups:\n\s+java-virtual-machine: READ/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await schema.drop();
  }
});
