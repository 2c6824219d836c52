// Commands that work on the database directly (migrate, apply, export, user …), run as real
// processes in a temporary data directory: happy paths, error paths and their exit codes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/errors.ts';
import { EXAMPLE_BUNDLE, gatehouse, sandbox, type CliResult, type Sandbox } from './process.ts';

interface Counts {
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
}
interface Report {
  roles: Counts;
  groups: Counts;
  users: Counts;
  applications: Counts;
  dryRun: boolean;
}
interface UserJson {
  uuid: string;
  username: string;
  type: string;
  email: string | null;
  roles: string[];
  groups: string[];
  disabled: boolean;
  has_password: boolean;
}

function json<T>(result: CliResult): T {
  assert.equal(result.code, 0, `exit 0 expected; stderr: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** A failure: the expected exit code, a message on stderr, nothing on stdout. */
function failed(result: CliResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, `exit ${code} expected, got ${result.code}; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '', 'nothing on stdout');
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

describe('gatehouse migrate', () => {
  let box: Sandbox;
  before(() => (box = sandbox()));
  after(() => box.cleanup());

  test('creates the schema once, then reports it up to date', async () => {
    const first = json<{ applied: number[]; current: number }>(await gatehouse(['migrate', '--json'], { env: box.env }));
    assert.ok(first.applied.length > 0);
    const second = json<{ applied: number[]; current: number }>(await gatehouse(['migrate', '--json'], { env: box.env }));
    assert.deepEqual(second.applied, []);
    assert.equal(second.current, first.current);
    const text = await gatehouse(['migrate'], { env: box.env });
    assert.equal(text.code, 0);
    assert.match(text.stdout, /schema is up to date/);
  });

  test('a database URL of an unknown kind is invalid input, named in the message', async () => {
    failed(await gatehouse(['migrate', '--database-url', 'mysql://db'], { env: box.env }), EXIT.invalid, /databaseUrl/);
  });

  test('a bad configuration value names its key and exits 5', async () => {
    const env = { ...box.env, GATEHOUSE_ARGON2_ITERATIONS: '0' };
    failed(await gatehouse(['user', 'list'], { env }), EXIT.invalid, /argon2Iterations.*GATEHOUSE_ARGON2_ITERATIONS/);
  });

  test('an unknown key in a config file is named', async () => {
    const file = join(box.dir, 'config.yaml');
    writeFileSync(file, 'prot: 8000\n');
    failed(await gatehouse(['migrate', '--config', file], { env: box.env }), EXIT.invalid, /unknown key "prot"/);
  });

  test('a data directory that cannot be created is reported by path', async () => {
    const file = join(box.dir, 'plain-file');
    writeFileSync(file, '');
    failed(await gatehouse(['migrate', '--data-dir', join(file, 'data')], { env: box.env }), EXIT.failure, /plain-file/);
  });
});

describe('gatehouse apply and export', () => {
  let box: Sandbox;
  before(() => (box = sandbox()));
  after(() => box.cleanup());

  test('--dry-run reports the changes and makes none', async () => {
    const report = json<Report>(await gatehouse(['apply', EXAMPLE_BUNDLE, '--dry-run', '--json'], { env: box.env }));
    assert.equal(report.dryRun, true);
    assert.equal(report.users.created, 3);
    const users = json<UserJson[]>(await gatehouse(['user', 'list', '--json'], { env: box.env }));
    assert.deepEqual(users, []);
  });

  test('applies the example bundle, and applying it again changes nothing', async () => {
    const first = json<Report>(await gatehouse(['apply', EXAMPLE_BUNDLE, '--json'], { env: box.env }));
    assert.deepEqual(first.users, { created: 3, updated: 0, unchanged: 0, deleted: 0 });
    const second = json<Report>(await gatehouse(['apply', EXAMPLE_BUNDLE, '--json'], { env: box.env }));
    assert.deepEqual(second.users, { created: 0, updated: 0, unchanged: 3, deleted: 0 });
    assert.deepEqual(second.applications, { created: 0, updated: 0, unchanged: 1, deleted: 0 });
    assert.equal(second.roles.created + second.roles.updated + second.groups.created + second.groups.updated, 0);
    const text = await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env });
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^users\s+0\s+0\s+3\s+0$/m);
    assert.match(text.stdout, /^applications\s+0\s+0\s+1\s+0$/m);
    assert.equal(text.stderr, '', 'no progress display when stderr is not a terminal');
  });

  test('reads a bundle from stdin with "-"', async () => {
    const bundle = 'users:\n  - { username: dave, password: dave_password, roles: [observer] }\n';
    const report = json<Report>(await gatehouse(['apply', '-', '--json'], { env: box.env, input: bundle }));
    assert.equal(report.users.created, 1);
  });

  test('an invalid bundle exits 5, says what is wrong and changes nothing', async () => {
    const file = join(box.dir, 'bad.yaml');
    writeFileSync(file, 'users:\n  - { username: erin, password: erin_password, roles: [no-such-role] }\n  - { username: 7 }\n');
    const result = await gatehouse(['apply', file], { env: box.env });
    failed(result, EXIT.invalid, /not valid/);
    assert.match(result.stderr, /username/);
    const users = json<UserJson[]>(await gatehouse(['user', 'list', '--json'], { env: box.env }));
    assert.ok(!users.some((u) => u.username === 'erin'));
  });

  test('a bundle that is not YAML exits 5', async () => {
    failed(await gatehouse(['apply', '-'], { env: box.env, input: 'users: [ {' }), EXIT.invalid, /cannot parse/);
  });

  test('a missing bundle file exits 5', async () => {
    failed(await gatehouse(['apply', join(box.dir, 'missing.yaml')], { env: box.env }), EXIT.invalid, /cannot read .*missing\.yaml/);
  });

  test('export prints the policy with password hashes, never the clear passwords', async () => {
    const exported = json<{ users: { username: string; password?: string }[] }>(await gatehouse(['export', '--json'], { env: box.env }));
    const bob = exported.users.find((u) => u.username === 'bob');
    assert.ok(bob);
    assert.match(bob.password ?? '', /^\$argon2id\$/);
    const yaml = await gatehouse(['export'], { env: box.env });
    assert.equal(yaml.code, 0);
    assert.match(yaml.stdout, /username: bob/);
    assert.doesNotMatch(yaml.stdout, /bob_password/);
  });

  test('export -o writes a file only its owner can read', async () => {
    const file = join(box.dir, 'export.yaml');
    const result = await gatehouse(['export', '-o', file], { env: box.env });
    assert.equal(result.code, 0);
    assert.equal(result.stdout, '');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /username: alice/);
  });

  test('export --format xml is a usage error', async () => {
    failed(await gatehouse(['export', '--format', 'xml'], { env: box.env }), EXIT.usage, /--format/);
  });
});

describe('gatehouse user', () => {
  let box: Sandbox;
  before(async () => {
    box = sandbox();
    assert.equal((await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env })).code, 0);
  });
  after(() => box.cleanup());

  test('add with --password-stdin, then list', async () => {
    const created = json<UserJson>(
      await gatehouse(['user', 'add', 'frank', '--role', 'observer', '--email', 'frank@example.org', '--password-stdin', '--json'], {
        env: box.env,
        input: 'frank_password\n',
      }),
    );
    assert.equal(created.username, 'frank');
    assert.deepEqual(created.roles, ['observer']);
    assert.equal(created.has_password, true);
    assert.equal(created.type, 'user');

    const users = json<UserJson[]>(await gatehouse(['user', 'list', '--json'], { env: box.env }));
    assert.deepEqual(users.map((u) => u.username).sort(), ['alice', 'bob', 'carol', 'frank']);
    const table = await gatehouse(['user', 'list'], { env: box.env });
    assert.match(table.stdout, /^USERNAME\s+TYPE\s+ROLES/);
    assert.match(table.stdout, /^frank\s+user\s+observer\s/m);
  });

  test('a service principal has no password', async () => {
    const created = json<UserJson>(await gatehouse(['user', 'add', 'robot', '--service', '--role', 'user', '--json'], { env: box.env }));
    assert.equal(created.type, 'service');
    assert.equal(created.has_password, false);
  });

  test('adding an existing user is a conflict (exit 5)', async () => {
    failed(
      await gatehouse(['user', 'add', 'bob', '--password-stdin'], { env: box.env, input: 'x' }),
      EXIT.invalid,
      /already exists/,
    );
  });

  test('an unknown role is invalid input', async () => {
    failed(
      await gatehouse(['user', 'add', 'gina', '--role', 'no-such-role', '--password-stdin'], { env: box.env, input: 'gina_password' }),
      EXIT.invalid,
      /unknown role.*no-such-role/,
    );
  });

  test('--password-stdin with nothing on stdin is refused', async () => {
    failed(await gatehouse(['user', 'add', 'hank', '--password-stdin'], { env: box.env, input: '' }), EXIT.invalid, /no password/);
  });

  test('passwd reads the new password from stdin; without a terminal it needs --password-stdin', async () => {
    const changed = json<{ username: string; password_changed: boolean }>(
      await gatehouse(['user', 'passwd', 'frank', '--password-stdin', '--json'], { env: box.env, input: 'new_password\n' }),
    );
    assert.deepEqual(changed, { username: 'frank', password_changed: true });
    failed(await gatehouse(['user', 'passwd', 'frank'], { env: box.env }), EXIT.usage, /--password-stdin/);
  });

  test('passwd of an unknown user exits 4', async () => {
    failed(await gatehouse(['user', 'passwd', 'nobody', '--password-stdin'], { env: box.env, input: 'pw' }), EXIT.notFound, /nobody/);
  });

  test('disable, enable and roles change the stored user', async () => {
    assert.deepEqual(json(await gatehouse(['user', 'disable', 'frank', '--json'], { env: box.env })), { username: 'frank', disabled: true });
    let frank = json<UserJson[]>(await gatehouse(['user', 'list', '--json'], { env: box.env })).find((u) => u.username === 'frank');
    assert.equal(frank?.disabled, true);

    const enabled = await gatehouse(['user', 'enable', 'frank'], { env: box.env });
    assert.equal(enabled.code, 0);
    assert.equal(enabled.stdout, 'frank enabled\n');

    assert.deepEqual(json(await gatehouse(['user', 'roles', 'frank', 'user,observer', '--json'], { env: box.env })), {
      username: 'frank',
      roles: ['user', 'observer'],
    });
    frank = json<UserJson[]>(await gatehouse(['user', 'list', '--json'], { env: box.env })).find((u) => u.username === 'frank');
    assert.equal(frank?.disabled, false);
    assert.deepEqual([...(frank?.roles ?? [])].sort(), ['observer', 'user']);
  });

  test('changes to an unknown user exit 4', async () => {
    for (const args of [['disable', 'ghost'], ['enable', 'ghost'], ['roles', 'ghost', 'user'], ['remove', 'ghost']]) {
      failed(await gatehouse(['user', ...args], { env: box.env }), EXIT.notFound, /ghost/);
    }
  });

  test('remove deletes the user', async () => {
    assert.deepEqual(json(await gatehouse(['user', 'remove', 'frank', '--json'], { env: box.env })), { username: 'frank', removed: true });
    const users = json<UserJson[]>(await gatehouse(['user', 'list', '--json'], { env: box.env }));
    assert.ok(!users.some((u) => u.username === 'frank'));
  });
});
