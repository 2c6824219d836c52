// The command's self-description: --help everywhere, exit codes documented, --json on every
// command that prints data, usage errors on stderr with exit code 2.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { buildProgram, run } from '../../src/cli/main.ts';
import { EXIT, EXIT_CODE_HELP } from '../../src/cli/errors.ts';
import type { Io } from '../../src/cli/io.ts';
import { gatehouse, ROOT, sandbox } from './process.ts';

function captureIo(): Io & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  const stdin = new PassThrough();
  stdin.end();
  return { stdout, stderr, stdin, env: { GATEHOUSE_CREDENTIALS: '/nonexistent/credentials.json' }, out: () => out, err: () => err };
}

/** Every command path, e.g. ['user', 'add']. */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => [[...prefix, sub.name()], ...commandPaths(sub, [...prefix, sub.name()])]);
}

function find(program: Command, path: readonly string[]): Command {
  let command = program;
  for (const name of path) {
    const next = command.commands.find((c) => c.name() === name);
    assert.ok(next, `no command ${path.join(' ')}`);
    command = next;
  }
  return command;
}

const program = buildProgram(captureIo());
const box = sandbox();
after(() => box.cleanup());
const paths = commandPaths(program);

describe('gatehouse --help', () => {
  test('the top-level help lists the commands and documents every exit code', async () => {
    const result = await gatehouse(['--help'], { env: box.env });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    for (const name of ['serve', 'apply', 'export', 'migrate', 'user', 'login', 'logout', 'whoami', 'scopes', 'apikey']) {
      assert.match(result.stdout, new RegExp(`^  ${name}\\b`, 'm'), `command ${name} listed`);
    }
    assert.match(result.stdout, /Exit codes:/);
    for (const [code, meaning] of EXIT_CODE_HELP) {
      assert.ok(result.stdout.includes(`  ${code}  ${meaning}`), `exit code ${code} documented`);
    }
    assert.match(result.stdout, /GATEHOUSE_CREDENTIALS/);
  });

  test('the documented codes are exactly the ones the command uses', () => {
    assert.deepEqual(
      EXIT_CODE_HELP.map(([code]) => code),
      Object.values(EXIT),
    );
  });

  test('there are commands and subcommands to check', () => {
    assert.ok(paths.some((p) => p.join(' ') === 'user add'));
    assert.ok(paths.some((p) => p.join(' ') === 'apikey revoke'));
    assert.ok(paths.length >= 18, `only ${paths.length} commands`);
  });

  for (const path of paths) {
    test(`gatehouse ${path.join(' ')} --help`, async () => {
      const io = captureIo();
      const code = await run([...path, '--help'], io);
      assert.equal(code, EXIT.ok);
      assert.match(io.out(), new RegExp(`^Usage: gatehouse ${path.join(' ')}\\b`));
      assert.equal(io.err(), '');
      const description = find(program, path).description();
      assert.ok(description.length > 0, 'has a description');
      assert.ok(io.out().includes(description.split('\n')[0]?.slice(0, 20) ?? ''), 'help shows the description');
    });
  }

  test('every command that prints data has --json', () => {
    const printsNoData = new Set(['serve']);
    const leaves = paths.filter((p) => find(program, p).commands.length === 0 && !printsNoData.has(p.join(' ')));
    assert.ok(leaves.length > 10);
    for (const path of leaves) {
      const options = find(program, path).options.map((o) => o.long);
      assert.ok(options.includes('--json'), `gatehouse ${path.join(' ')} has --json`);
    }
  });

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { version: string };
    const result = await gatehouse(['--version'], { env: box.env });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), pkg.version);
  });
});

describe('usage errors', () => {
  test('an unknown command exits 2 with the message on stderr only', async () => {
    const result = await gatehouse(['frobnicate'], { env: box.env });
    assert.equal(result.code, EXIT.usage);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /unknown command 'frobnicate'/);
  });

  test('an unknown option exits 2', async () => {
    const io = captureIo();
    assert.equal(await run(['user', 'list', '--frobnicate'], io), EXIT.usage);
    assert.match(io.err(), /unknown option '--frobnicate'/);
    assert.equal(io.out(), '');
  });

  test('a missing argument exits 2', async () => {
    const io = captureIo();
    assert.equal(await run(['apikey', 'revoke'], io), EXIT.usage);
    assert.match(io.err(), /missing required argument/);
  });

  test('a command group without its subcommand shows its help on stderr and exits 2', async () => {
    const io = captureIo();
    assert.equal(await run(['user'], io), EXIT.usage);
    assert.match(io.err(), /Usage: gatehouse user/);
    assert.equal(io.out(), '');
  });

  test('"gatehouse help <command>" is not an error', async () => {
    const io = captureIo();
    assert.equal(await run(['help', 'apply'], io), EXIT.ok);
    assert.match(io.out(), /Usage: gatehouse apply/);
  });
});
