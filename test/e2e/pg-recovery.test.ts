// A Gatehouse process on PostgreSQL survives losing its database connections: while they are
// gone every request that fails, fails closed with 503 (never 500, never a wrong answer); once
// the database answers again the node serves again by itself, without a restart, and hears other
// nodes' changes again (its LISTEN connection came back).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { adminQuery, createSchema, needPostgres, PG_URL, type TestSchema } from '../pg.ts';
import { cli, loginAt, request, sleep, startNode, within, type GatehouseNode, type Reply } from './pg-nodes.ts';

const BUNDLE = `
roles:
  - { name: expert, scopes: [read:status] }
users:
  - { username: bob, password: bob_password, roles: [expert, user] }
`;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const apikey = (secret: string) => ({ authorization: `Apikey ${secret}` });

/** A TCP relay to PostgreSQL that the test can cut (every connection dropped, new ones refused) and restore. */
async function cuttableRelay(): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const target = new URL(PG_URL);
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', close);
      s.on('close', close);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A database URL for `schema` reaching PostgreSQL through `port`. */
function urlThrough(schema: TestSchema, port: number, applicationName: string): string {
  const url = new URL(schema.urlWith({ application_name: applicationName }));
  url.port = String(port);
  return url.toString();
}

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

/** A node with bob logged in, an API key of his, and the policy cached. */
async function preparedNode(databaseUrl: string) {
  const node = await startNode(databaseUrl, { bundle: BUNDLE });
  const tokens = await loginAt(node.url, 'bob', 'bob_password');
  const created = await request(node.url, '/api/auth/apikey', {
    headers: bearer(tokens.access_token),
    json: { expires_in: 3600, scopes: ['read:status'], note: 'recovery' },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const secret = (created.body as { secret: string }).secret;
  const scopes = await request(node.url, '/api/auth/scopes', { headers: bearer(tokens.access_token) });
  assert.equal(scopes.status, 200);
  return { node, token: tokens.access_token, secret };
}

/** A mix of reads and writes against the node: token and key checks, scopes, logins (which write). */
function traffic(node: GatehouseNode, token: string, secret: string) {
  const steps: (() => Promise<Reply>)[] = [
    () => request(node.url, '/api/auth/whoami', { headers: bearer(token) }),
    () => request(node.url, '/api/auth/whoami', { headers: apikey(secret) }),
    () => request(node.url, '/api/auth/scopes', { headers: bearer(token) }),
    () => request(node.url, '/api/auth/provider/local/token', { form: { username: 'bob', password: 'bob_password' } }),
  ];
  let i = 0;
  return async (): Promise<Reply> => {
    const step = steps[i++ % steps.length];
    assert.ok(step);
    return step();
  };
}

/** Sends traffic until `streak` requests in a row succeed (or the deadline passes); returns every reply. */
async function untilHealthy(next: () => Promise<Reply>, deadlineMs: number, streak = 12) {
  const replies: { at: number; status: number; body: unknown }[] = [];
  const deadline = Date.now() + deadlineMs;
  let ok = 0;
  while (ok < streak && Date.now() < deadline) {
    const reply = await next();
    replies.push({ at: Date.now(), ...reply });
    ok = reply.status === 200 ? ok + 1 : 0;
  }
  return { replies, healthy: ok >= streak };
}

function assertFailClosed(replies: readonly { status: number; body: unknown }[]): void {
  for (const r of replies) {
    assert.ok(r.status === 200 || r.status === 503, `every request succeeds or fails closed with 503; got ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status === 503) assert.deepEqual(r.body, { detail: 'Service temporarily unavailable' });
  }
}

/** Waits (bounded) until the node has a new LISTEN connection: it reconnects with a backoff of at most 2 s. */
async function listeningAgain(applicationName: string, oldPids: readonly number[]): Promise<void> {
  const took = await within(10_000, async () => {
    const rows = await adminQuery<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`,
      [applicationName],
    );
    return rows.some((r) => !oldPids.includes(r.pid));
  });
  assert.notEqual(took, null, 'the node listens for changes again');
}

/** After recovery, a policy change made elsewhere reaches the node (its LISTEN connection is back). */
async function assertHearsChanges(node: GatehouseNode, token: string, databaseUrl: string, scope: string): Promise<void> {
  await applyBundle(databaseUrl, `roles:\n  - { name: expert, scopes: [read:status, ${scope}] }\n`);
  const since = Date.now();
  const took = await within(
    1000,
    async () => {
      const res = await request(node.url, '/api/auth/scopes', { headers: bearer(token) });
      return res.status === 200 && (res.body as { scopes: string[] }).scopes.includes(scope);
    },
    since,
  );
  assert.ok(took !== null && took <= 1000, `the node saw the policy change after ${took} ms`);
}

test('after pg_terminate_backend kills its connections, a node recovers by itself; failures meanwhile are 503', async (t) => {
  if (!(await needPostgres(t))) return;
  const schema = await createSchema('gh_recovery');
  const appName = `gh_rec_${schema.schema.slice(-10)}`;
  const url = schema.urlWith({ application_name: appName });
  let node: GatehouseNode | null = null;
  try {
    const prepared = await preparedNode(url);
    node = prepared.node;
    const next = traffic(node, prepared.token, prepared.secret);
    // several pooled connections in use, plus the LISTEN one
    await Promise.all(Array.from({ length: 8 }, () => next()));

    const killed = await adminQuery<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
      [appName],
    );
    assert.ok(killed.length >= 2, `the node holds pooled and LISTEN connections (found ${killed.length})`);
    const load = untilHealthy(next, 15_000);
    await sleep(5);
    const terminated = await adminQuery<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
      [appName],
    );
    assert.ok(terminated.length >= 2 && terminated.every((r) => r.ok), 'the connections were terminated');
    const { replies, healthy } = await load;
    assertFailClosed(replies);
    t.diagnostic(`${replies.filter((r) => r.status === 503).length} of ${replies.length} requests answered 503 meanwhile`);
    assert.ok(healthy, `requests succeed again without a restart (last: ${JSON.stringify(replies.slice(-3))})`);

    // the process is the same one, ready, with fresh connections
    assert.equal(node.child.exitCode, null, 'the node did not restart');
    assert.deepEqual((await request(node.url, '/readyz')).body, { status: 'ready' });
    const pids = await adminQuery<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [appName]);
    assert.ok(pids.every((p) => !killed.some((k) => k.pid === p.pid)), 'only new connections remain');
    await listeningAgain(appName, killed.map((k) => k.pid));
    await assertHearsChanges(node, prepared.token, schema.url, 'read:queue');
  } finally {
    await node?.stop();
    await schema.drop();
  }
});

test('while the database is unreachable a node answers 503 (healthz ok, readyz unavailable) and recovers when it returns', async (t) => {
  if (!(await needPostgres(t))) return;
  const schema = await createSchema('gh_recovery');
  const relay = await cuttableRelay();
  const appName = `gh_cut_${schema.schema.slice(-10)}`;
  let node: GatehouseNode | null = null;
  try {
    const prepared = await preparedNode(urlThrough(schema, relay.port, appName));
    node = prepared.node;
    const next = traffic(node, prepared.token, prepared.secret);

    relay.cut();
    const during: Reply[] = [];
    for (let i = 0; i < 8; i++) during.push(await next());
    assertFailClosed(during);
    assert.ok(
      during.every((r) => r.status === 503),
      `with the database gone every request is refused with 503: ${JSON.stringify(during.map((r) => r.status))}`,
    );
    const unavailable = await fetch(`${node.url}/api/auth/whoami`, { headers: bearer(prepared.token) });
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.headers.get('retry-after'), '1');
    await unavailable.body?.cancel();
    assert.deepEqual(await request(node.url, '/readyz'), { status: 503, body: { status: 'unavailable' } });
    assert.deepEqual(await request(node.url, '/healthz'), { status: 200, body: { status: 'ok' } });

    relay.restore();
    const restoredAt = Date.now();
    const { replies, healthy } = await untilHealthy(next, 15_000);
    assertFailClosed(replies);
    t.diagnostic(`serving again ${(replies.at(-1)?.at ?? restoredAt) - restoredAt} ms after the database came back`);
    assert.ok(healthy, `requests succeed again without a restart (last: ${JSON.stringify(replies.slice(-3))})`);
    assert.equal(node.child.exitCode, null, 'the node did not restart');
    assert.deepEqual((await request(node.url, '/readyz')).body, { status: 'ready' });
    await listeningAgain(appName, []);
    await assertHearsChanges(node, prepared.token, schema.url, 'read:history');
  } finally {
    await node?.stop();
    await relay.close();
    await schema.drop();
  }
});
