// gatehouse app add / list / remove, run as real processes in a temporary data directory: the
// happy paths, the refusals and their exit codes, and a running server that picks up an
// application added from another process.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/errors.ts';
import { eventually, gatehouse, sandbox, startServerProcess, type CliResult, type Sandbox } from './process.ts';

interface AppJson {
  client_id: string;
  name: string | null;
  scopes: string;
  access_token_ttl: number;
  grant_ttl: number;
  allow_refresh: boolean;
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

describe('gatehouse app', () => {
  let box: Sandbox;
  before(() => (box = sandbox()));
  after(() => box.cleanup());
  const run = (args: string[]) => gatehouse(['app', ...args], { env: box.env });

  test('add: scopes normalized, TPP defaults filled in', async () => {
    const created = json<AppJson>(await run(['add', 'vcert-cli', '--scopes', 'ssh:manage;certificate:revoke,manage', '--name', 'VCert CLI', '--json']));
    assert.deepEqual(created, {
      client_id: 'vcert-cli',
      name: 'VCert CLI',
      scopes: 'certificate:manage,revoke;ssh:manage',
      access_token_ttl: 7776000,
      grant_ttl: 31536000,
      allow_refresh: true,
    });
  });

  test('add with lifetimes and --no-refresh; a line of text without --json', async () => {
    const result = await run(['add', 'build-bot', '--scopes', 'certificate:manage', '--token-ttl', '600', '--grant-ttl', '3600', '--no-refresh']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'created application build-bot (scopes certificate:manage)\n');
  });

  test('list: sorted by client id, as JSON or a table', async () => {
    const apps = json<AppJson[]>(await run(['list', '--json']));
    assert.deepEqual(
      apps.map((a) => [a.client_id, a.access_token_ttl, a.grant_ttl, a.allow_refresh]),
      [
        ['build-bot', 600, 3600, false],
        ['vcert-cli', 7776000, 31536000, true],
      ],
    );
    const table = await run(['list']);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^CLIENT_ID\s+SCOPES\s+TOKEN_TTL\s+GRANT_TTL\s+REFRESH\s+NAME$/m);
    assert.match(table.stdout, /^build-bot\s+certificate:manage\s+600\s+3600\s+no\s+-$/m);
    assert.match(table.stdout, /^vcert-cli\s+certificate:manage,revoke;ssh:manage\s+7776000\s+31536000\s+yes\s+VCert CLI$/m);
  });

  test('an application that exists already: exit 5, unchanged', async () => {
    failed(await run(['add', 'vcert-cli', '--scopes', 'admin']), EXIT.invalid, /already exists/);
    const apps = json<AppJson[]>(await run(['list', '--json']));
    assert.equal(apps.find((a) => a.client_id === 'vcert-cli')?.scopes, 'certificate:manage,revoke;ssh:manage');
  });

  test('scopes that do not parse or are not in the catalog: exit 5 naming the problem, nothing created', async () => {
    failed(await run(['add', 'bad', '--scopes', 'certificate;;ssh']), EXIT.invalid, /scope part 2 is empty/);
    failed(await run(['add', 'bad', '--scopes', 'certificate:fly']), EXIT.invalid, /not in the scope catalog: certificate:fly/);
    failed(await run(['add', 'bad', '--scopes', 'read:status']), EXIT.invalid, /not in the scope catalog/);
    failed(await run(['add', 'bad id', '--scopes', 'admin']), EXIT.invalid, /clientId/);
    assert.ok(!json<AppJson[]>(await run(['list', '--json'])).some((a) => a.client_id === 'bad'));
  });

  test('usage errors exit 2: no --scopes, lifetimes that are not whole seconds', async () => {
    failed(await run(['add', 'x']), EXIT.usage, /--scopes/);
    failed(await run(['add', 'x', '--scopes', 'admin', '--token-ttl', '1.5']), EXIT.usage, /--token-ttl must be a whole number/);
    failed(await run(['add', 'x', '--scopes', 'admin', '--grant-ttl', '0']), EXIT.usage, /--grant-ttl must be a whole number/);
    failed(await run(['add', 'x', '--scopes', 'admin', '--grant-ttl', '99999999999']), EXIT.invalid, /grantTtl/);
  });

  test('a catalog applied from a bundle decides what an application may request', async () => {
    const file = join(box.dir, 'catalog.yaml');
    writeFileSync(file, 'scopeCatalog:\n  - { scope: certificate, restrictions: [manage] }\n  - { scope: ssh, restrictions: [manage] }\n');
    assert.equal((await gatehouse(['apply', file], { env: box.env })).code, 0);
    failed(await run(['add', 'later', '--scopes', 'certificate:revoke']), EXIT.invalid, /not in the scope catalog: certificate:revoke/);
    assert.equal((await run(['add', 'later', '--scopes', 'certificate:manage'])).code, 0);
    const exported = json<{ applications: { clientId: string }[]; scopeCatalog: unknown[] }>(await gatehouse(['export', '--json'], { env: box.env }));
    assert.deepEqual(exported.applications.map((a) => a.clientId), ['build-bot', 'later', 'vcert-cli']);
    assert.equal(exported.scopeCatalog.length, 2);
  });

  test('remove: once (exit 0), then it is not found (exit 4)', async () => {
    assert.deepEqual(json(await run(['remove', 'later', '--json'])), { client_id: 'later', removed: true });
    failed(await run(['remove', 'later']), EXIT.notFound, /application later not found/);
    assert.ok(!json<AppJson[]>(await run(['list', '--json'])).some((a) => a.client_id === 'later'));
  });
});

describe('a running server and gatehouse app', () => {
  let box: Sandbox;
  before(() => (box = sandbox()));
  after(() => box.cleanup());

  test('an application added from another process can be used at once; removing it ends its grants', async () => {
    const file = join(box.dir, 'bundle.yaml');
    writeFileSync(file, 'roles: [{ name: certs, scopes: ["certificate:manage"] }]\nusers: [{ username: vera, password: vera_password, roles: [certs] }]\n');
    assert.equal((await gatehouse(['apply', file], { env: box.env })).code, 0);
    const server = await startServerProcess(box.env);
    try {
      const authorize = () =>
        fetch(`${server.url}/vedauth/authorize/oauth`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_id: 'ci-bot', username: 'vera', password: 'vera_password', scope: 'certificate:manage' }),
        });
      assert.equal((await authorize()).status, 400, 'no such application yet');
      assert.equal((await gatehouse(['app', 'add', 'ci-bot', '--scopes', 'certificate:manage'], { env: box.env })).code, 0);
      const token = await eventually(async () => {
        const res = await authorize();
        return res.status === 200 ? ((await res.json()) as { access_token: string }).access_token : undefined;
      });
      const verify = () => fetch(`${server.url}/vedauth/authorize/verify`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await verify()).status, 200);
      assert.equal((await gatehouse(['app', 'remove', 'ci-bot'], { env: box.env })).code, 0);
      assert.equal((await verify()).status, 401);
    } finally {
      await server.stop();
    }
  });
});
