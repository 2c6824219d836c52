// Two real Gatehouse processes on one PostgreSQL database behave as one server: a token issued
// by node A is accepted by node B, an API key revoked on A is refused by B within a second, and
// role and policy changes made elsewhere show in A's /api/auth/scopes within a second.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { createSchema, needPostgres, pgUnavailableReason, type TestSchema } from '../pg.ts';
import { cli, loginAt, request, startNode, within, type GatehouseNode } from './pg-nodes.ts';

const BUNDLE = `
roles:
  - { name: expert, scopes: [read:status, write:queue:edit] }
users:
  - { username: bob, password: bob_password, roles: [admin, expert] }
  - { username: alice, password: alice_password, roles: [user] }
`;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const apikey = (secret: string) => ({ authorization: `Apikey ${secret}` });

describe('several nodes on one PostgreSQL database', () => {
  let schema: TestSchema | null = null;
  let a: GatehouseNode | null = null;
  let b: GatehouseNode | null = null;
  before(async () => {
    if ((await pgUnavailableReason()) !== null) return; // each test then skips (or fails under CI)
    schema = await createSchema('gh_e2e');
    // both start at once on the empty schema: migrations and the first signing key are made once
    const started = await Promise.allSettled([startNode(schema.url, { bundle: BUNDLE }), startNode(schema.url)]);
    const [first, second] = started.map((r) => (r.status === 'fulfilled' ? r.value : null));
    a = first ?? null;
    b = second ?? null;
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason; // after() stops whichever node did start
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await schema?.drop();
  });

  /** The two nodes; skips the test when PostgreSQL is not there. */
  const nodes = async (t: TestContext): Promise<[GatehouseNode, GatehouseNode] | null> => {
    if (!(await needPostgres(t))) return null;
    assert.ok(a && b);
    assert.notEqual(a.url, b.url, 'two processes');
    return [a, b];
  };

  test('a token issued by node A is accepted by node B, and B refreshes it', async (t) => {
    const both = await nodes(t);
    if (!both) return;
    const [nodeA, nodeB] = both;
    const tokens = await loginAt(nodeA.url, 'bob', 'bob_password');
    const who = await request(nodeB.url, '/api/auth/whoami', { headers: bearer(tokens.access_token) });
    assert.equal(who.status, 200, JSON.stringify(who.body));
    assert.equal((who.body as { uuid?: unknown }).uuid !== undefined, true);
    const scopes = await request(nodeB.url, '/api/auth/scopes', { headers: bearer(tokens.access_token) });
    assert.equal(scopes.status, 200);
    assert.ok((scopes.body as { roles: string[] }).roles.includes('expert'));

    // A's refresh token works on B, and the pair B hands out works on A
    const refreshed = await request(nodeB.url, '/api/auth/session/refresh', { json: { refresh_token: tokens.refresh_token } });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const next = refreshed.body as { access_token: string; refresh_token: string };
    assert.equal((await request(nodeA.url, '/api/auth/whoami', { headers: bearer(next.access_token) })).status, 200);
    const again = await request(nodeA.url, '/api/auth/session/refresh', { json: { refresh_token: next.refresh_token } });
    assert.equal(again.status, 200, JSON.stringify(again.body));

    // the JWKS of both nodes publish the same keys
    const jwksA = await request(nodeA.url, '/.well-known/jwks.json');
    const jwksB = await request(nodeB.url, '/.well-known/jwks.json');
    assert.deepEqual(jwksB.body, jwksA.body);
    assert.equal((jwksA.body as { keys: unknown[] }).keys.length, 1, 'the nodes made one signing key between them');
  });

  test('a session ended on node A is refused by node B at once', async (t) => {
    const both = await nodes(t);
    if (!both) return;
    const [nodeA, nodeB] = both;
    const tokens = await loginAt(nodeB.url, 'alice', 'alice_password');
    assert.equal((await request(nodeB.url, '/api/auth/whoami', { headers: bearer(tokens.access_token) })).status, 200);
    const logout = await request(nodeA.url, '/api/auth/logout', { method: 'POST', headers: bearer(tokens.access_token) });
    assert.equal(logout.status, 200, JSON.stringify(logout.body));
    const since = Date.now();
    const took = await within(1000, async () => {
      const res = await request(nodeB.url, '/api/auth/whoami', { headers: bearer(tokens.access_token) });
      return res.status === 401;
    }, since);
    assert.ok(took !== null && took <= 1000, `node B refused the ended session after ${took} ms`);
    t.diagnostic(`node B refused the ended session after ${took} ms`);
  });

  test('an API key revoked on node A is refused by node B within 1 s', async (t) => {
    const both = await nodes(t);
    if (!both) return;
    const [nodeA, nodeB] = both;
    const tokens = await loginAt(nodeA.url, 'bob', 'bob_password');
    const created = await request(nodeA.url, '/api/auth/apikey', {
      headers: bearer(tokens.access_token),
      json: { expires_in: 3600, scopes: ['read:status'], note: 'multinode' },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const { secret, first_eight } = created.body as { secret: string; first_eight: string };

    const before = await request(nodeB.url, '/api/auth/whoami', { headers: apikey(secret) });
    assert.equal(before.status, 200, 'B accepts the key before it is revoked');

    const revoked = await request(nodeA.url, `/api/auth/apikey?first_eight=${encodeURIComponent(first_eight)}`, {
      method: 'DELETE',
      headers: bearer(tokens.access_token),
    });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const since = Date.now();
    const took = await within(1000, async () => {
      const res = await request(nodeB.url, '/api/auth/whoami', { headers: apikey(secret) });
      return res.status === 401;
    }, since);
    assert.ok(took !== null && took <= 1000, `node B refused the revoked key after ${took} ms`);
    t.diagnostic(`node B refused the revoked key after ${took} ms`);
    // and it stays refused
    assert.equal((await request(nodeB.url, '/api/auth/whoami', { headers: apikey(secret) })).status, 401);
  });

  test("a role change made elsewhere shows in node A's /api/auth/scopes within 1 s", async (t) => {
    const both = await nodes(t);
    if (!both) return;
    const [nodeA, nodeB] = both;
    assert.ok(schema);
    const tokens = await loginAt(nodeB.url, 'alice', 'alice_password');
    const scopesOnA = async () => {
      const res = await request(nodeA.url, '/api/auth/scopes', { headers: bearer(tokens.access_token) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { roles: string[]; scopes: string[] };
    };
    const initial = await scopesOnA(); // A has the policy loaded (and cached) now
    assert.deepEqual(initial.roles, ['user']);

    // 1) alice's roles change (the CLI works on the database directly, as a third process would)
    await cli(['user', 'roles', 'alice', 'expert', '--database-url', schema.url]);
    let since = Date.now();
    let took = await within(1000, async () => (await scopesOnA()).roles.join(',') === 'expert', since);
    assert.ok(took !== null && took <= 1000, `A showed alice's new role after ${took} ms`);
    t.diagnostic(`A showed alice's new role after ${took} ms`);
    assert.deepEqual((await scopesOnA()).scopes, ['read:status', 'write:queue:edit']);

    // 2) the role's definition changes: A's cached policy must be dropped (LISTEN/NOTIFY)
    const bundle = 'roles:\n  - { name: expert, scopes: [read:status, read:queue, write:queue:edit] }\n';
    await applyBundle(schema.url, bundle);
    since = Date.now();
    took = await within(1000, async () => (await scopesOnA()).scopes.includes('read:queue'), since);
    assert.ok(took !== null && took <= 1000, `A showed the changed role definition after ${took} ms`);
    t.diagnostic(`A showed the changed role definition after ${took} ms`);
    assert.deepEqual((await scopesOnA()).scopes, ['read:queue', 'read:status', 'write:queue:edit']);
    // node B agrees
    const onB = await request(nodeB.url, '/api/auth/scopes', { headers: bearer(tokens.access_token) });
    assert.deepEqual((onB.body as { scopes: string[] }).scopes, ['read:queue', 'read:status', 'write:queue:edit']);
  });
});

/** `gatehouse apply` of a bundle text against the database. */
async function applyBundle(databaseUrl: string, text: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bundle-'));
  try {
    const file = join(dir, 'bundle.yaml');
    writeFileSync(file, text);
    await cli(['apply', file, '--database-url', databaseUrl]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
