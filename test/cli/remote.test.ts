// Commands that talk to a running server (login, whoami, scopes, apikey, logout) against a real
// `gatehouse serve` process on a free port; and a bundle applied while that server runs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXIT } from '../../src/cli/errors.ts';
import {
  closedPort,
  EXAMPLE_BUNDLE,
  eventually,
  gatehouse,
  sandbox,
  startServerProcess,
  type CliResult,
  type Sandbox,
  type ServerProcess,
} from './process.ts';

interface Scopes {
  roles: string[];
  scopes: string[];
}
interface Key {
  first_eight: string;
  scopes: string[];
  secret: string;
  note: string | null;
}

function json<T>(result: CliResult): T {
  assert.equal(result.code, 0, `exit 0 expected; stderr: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

function failed(result: CliResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, `exit ${code} expected, got ${result.code}; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '', 'nothing on stdout');
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

describe('a server started with no users', () => {
  let box: Sandbox;
  let server: ServerProcess;
  before(async () => {
    box = sandbox();
    server = await startServerProcess({ ...box.env, GATEHOUSE_LOG_LEVEL: 'info' });
  });
  after(async () => {
    await server?.stop();
    box.cleanup();
  });

  test('says how to add users, and picks up a bundle applied from another process', async () => {
    assert.ok(server.logs().some((line) => String(line.msg).startsWith('no users yet')));
    failed(
      await gatehouse(['login', 'bob', '--password-stdin', '--server', server.url], { env: box.env, input: 'bob_password' }),
      EXIT.auth,
      /Incorrect username or password/,
    );

    assert.equal((await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env })).code, 0);
    const login = await gatehouse(['login', 'bob', '--password-stdin', '--server', server.url], { env: box.env, input: 'bob_password' });
    assert.equal(login.code, 0, login.stderr);
    const before = json<Scopes>(await gatehouse(['scopes', '--json'], { env: box.env }));
    assert.ok(before.scopes.includes('write:queue:edit'));

    // Redefine a role in the database from a second process: the running server notices the
    // write (PRAGMA data_version) and bob's scopes shrink without logging in again.
    const narrower = join(box.dir, 'narrower.yaml');
    writeFileSync(narrower, 'roles:\n  - { name: expert, scopes: [read:status, read:queue] }\n');
    assert.equal((await gatehouse(['apply', narrower], { env: box.env })).code, 0);
    const after = await eventually(async () => {
      const now = json<Scopes>(await gatehouse(['scopes', '--json'], { env: box.env }));
      return now.scopes.includes('write:queue:edit') ? undefined : now;
    });
    assert.ok(after.scopes.includes('read:queue'));
    assert.ok(!after.scopes.includes('write:queue:edit'));
  });
});

describe('login, whoami, scopes, apikey, logout', () => {
  let box: Sandbox;
  let server: ServerProcess;
  before(async () => {
    box = sandbox();
    assert.equal((await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env })).code, 0);
    server = await startServerProcess(box.env);
  });
  after(async () => {
    await server?.stop();
    box.cleanup();
  });

  test('remote commands before login say so and exit 3', async () => {
    failed(await gatehouse(['whoami', '--server', server.url], { env: box.env }), EXIT.auth, /not logged in/);
    failed(await gatehouse(['logout'], { env: box.env }), EXIT.auth, /not logged in/);
  });

  test('a wrong password exits 3 with the message on stderr and saves nothing', async () => {
    const result = await gatehouse(['login', 'bob', '--password-stdin', '--server', server.url], { env: box.env, input: 'not_bob_password\n' });
    failed(result, EXIT.auth, /login to .* failed: Incorrect username or password/);
    assert.equal(existsSync(box.credentials), false);
  });

  test('login without a terminal or --password-stdin is a usage error', async () => {
    failed(await gatehouse(['login', 'bob', '--server', server.url], { env: box.env }), EXIT.usage, /--password-stdin/);
  });

  test('login saves the tokens in a file only the user can read', async () => {
    const result = json<{ server: string; username: string; credentials: string }>(
      await gatehouse(['login', 'bob', '--password-stdin', '--server', server.url, '--json'], { env: box.env, input: 'bob_password\n' }),
    );
    assert.deepEqual(result, { server: server.url, username: 'bob', credentials: box.credentials });
    assert.equal(statSync(box.credentials).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(box.credentials)).mode & 0o777, 0o700);
    const saved = JSON.parse(readFileSync(box.credentials, 'utf8')) as Record<string, string>;
    assert.equal(saved.server, server.url);
    assert.equal(saved.username, 'bob');
    assert.match(saved.access_token ?? '', /^ey/);
    assert.ok((saved.refresh_token ?? '').length > 20);
  });

  test('whoami shows bob', async () => {
    const me = json<{ roles: string[]; identities: { id: string }[]; type: string }>(await gatehouse(['whoami', '--json'], { env: box.env }));
    assert.deepEqual([...me.roles].sort(), ['admin', 'expert']);
    assert.equal(me.identities[0]?.id, 'bob');
    assert.equal(me.type, 'user');
    const text = await gatehouse(['whoami'], { env: box.env });
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^bob \(user /);
    assert.match(text.stdout, /^roles: +admin, expert$/m);
  });

  test('scopes lists roles and the effective scopes', async () => {
    const scopes = json<Scopes>(await gatehouse(['scopes', '--json'], { env: box.env }));
    assert.deepEqual([...scopes.roles].sort(), ['admin', 'expert']);
    assert.equal(scopes.scopes.length, 23);
    assert.ok(scopes.scopes.includes('admin:apikeys'));
    const text = await gatehouse(['scopes'], { env: box.env });
    assert.match(text.stdout, /^write:queue:edit$/m);
  });

  test('apikey create, use, list and revoke', async () => {
    const created = await gatehouse(['apikey', 'create', '--scopes', 'read:status,read:queue', '--note', 'cli test', '--json'], { env: box.env });
    const key = json<Key>(created);
    assert.match(key.secret, /^[0-9a-f]{72}$/);
    assert.equal(key.first_eight, key.secret.slice(0, 8));
    assert.deepEqual([...key.scopes].sort(), ['read:queue', 'read:status']);
    assert.equal(key.note, 'cli test');

    const withKey = json<Scopes>(await gatehouse(['scopes', '--api-key', key.secret, '--json'], { env: box.env }));
    assert.deepEqual([...withKey.scopes].sort(), ['read:queue', 'read:status']);
    const viaEnv = json<Scopes>(await gatehouse(['scopes', '--json'], { env: { ...box.env, GATEHOUSE_API_KEY: key.secret, GATEHOUSE_SERVER: server.url } }));
    assert.deepEqual(viaEnv, withKey);

    const listed = json<Key[]>(await gatehouse(['apikey', 'list', '--json'], { env: box.env }));
    assert.ok(listed.some((k) => k.first_eight === key.first_eight));
    assert.ok(listed.every((k) => !('secret' in k)), 'the list never shows secrets');
    const table = await gatehouse(['apikey', 'list'], { env: box.env });
    assert.match(table.stdout, new RegExp(`^${key.first_eight}\\s+(read:queue read:status|read:status read:queue)\\s+never\\s`, 'm'));

    assert.deepEqual(json(await gatehouse(['apikey', 'revoke', key.first_eight, '--json'], { env: box.env })), { revoked: key.first_eight });
    failed(await gatehouse(['apikey', 'revoke', key.first_eight], { env: box.env }), EXIT.notFound, /no such API key/);
    failed(await gatehouse(['scopes', '--api-key', key.secret, '--server', server.url], { env: box.env }), EXIT.auth, /Invalid API key/);
  });

  test('apikey create prints the secret alone on stdout and the rest on stderr', async () => {
    const result = await gatehouse(['apikey', 'create', '--expires-in', '60'], { env: box.env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^[0-9a-f]{72}\n$/);
    assert.match(result.stderr, /not shown again/);
    failed(await gatehouse(['apikey', 'create', '--expires-in', 'soon'], { env: box.env }), EXIT.usage, /--expires-in/);
  });

  test('asking for scopes beyond your own is invalid input (exit 5)', async () => {
    failed(await gatehouse(['apikey', 'create', '--scopes', 'write:manager:stop'], { env: box.env }), EXIT.invalid, /subset/);
  });

  test('an unreachable server exits 6', async () => {
    const port = await closedPort();
    const login = await gatehouse(['login', 'bob', '--password-stdin', '--server', `http://127.0.0.1:${port}`], { env: box.env, input: 'bob_password' });
    failed(login, EXIT.unavailable, /cannot reach http:\/\/127\.0\.0\.1:\d+/);
    failed(await gatehouse(['whoami', '--api-key', 'x', '--server', `http://127.0.0.1:${port}`], { env: box.env }), EXIT.unavailable, /cannot reach/);
  });

  test('logout ends the session on the server and removes the saved tokens', async () => {
    const saved = JSON.parse(readFileSync(box.credentials, 'utf8')) as { access_token: string };
    const result = json<{ server: string; session_revoked: boolean }>(await gatehouse(['logout', '--json'], { env: box.env }));
    assert.deepEqual(result, { server: server.url, session_revoked: true });
    assert.equal(existsSync(box.credentials), false);
    const response = await fetch(`${server.url}/api/auth/whoami`, { headers: { authorization: `Bearer ${saved.access_token}` } });
    assert.equal(response.status, 401, 'the old access token no longer works');
    failed(await gatehouse(['whoami'], { env: box.env }), EXIT.auth, /not logged in/);
  });

  test('without GATEHOUSE_CREDENTIALS the tokens go to $XDG_CONFIG_HOME/gatehouse/credentials.json', async () => {
    const env: NodeJS.ProcessEnv = { ...box.env, XDG_CONFIG_HOME: join(box.dir, 'xdg') };
    delete env.GATEHOUSE_CREDENTIALS;
    const result = json<{ credentials: string }>(
      await gatehouse(['login', 'alice', '--password-stdin', '--server', server.url, '--json'], { env, input: 'alice_password' }),
    );
    const expected = join(box.dir, 'xdg', 'gatehouse', 'credentials.json');
    assert.equal(result.credentials, expected);
    assert.equal(statSync(expected).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(expected)).mode & 0o777, 0o700);
    const me = json<{ identities: { id: string }[] }>(await gatehouse(['whoami', '--json'], { env }));
    assert.equal(me.identities[0]?.id, 'alice');

    const home = { ...env };
    delete home.XDG_CONFIG_HOME;
    const help = await gatehouse(['--help'], { env: home });
    assert.ok(help.stdout.includes(join(box.dir, 'home', '.config', 'gatehouse', 'credentials.json')), 'falls back to ~/.config');
  });
});
