// `gatehouse serve`: starts with a bundle, and refuses to start with a clear one-line message and
// a non-zero exit code when the port is taken, the configuration is bad or the bundle is invalid.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/errors.ts';
import { EXAMPLE_BUNDLE, gatehouse, sandbox, startServerProcess, type CliResult, type Sandbox } from './process.ts';

/** The last line on stderr is the message, and there is no stack trace. */
function refused(result: CliResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, `exit ${code} expected, got ${result.code}; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.match(lines[0] ?? '', /^gatehouse: /);
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at |Error:/, 'no stack trace');
}

describe('gatehouse serve', () => {
  let box: Sandbox;
  before(() => (box = sandbox({ GATEHOUSE_LOG_LEVEL: 'warn' })));
  after(() => box.cleanup());

  test('--bundle applies the bundle at start-up', async () => {
    const server = await startServerProcess({ ...box.env, GATEHOUSE_LOG_LEVEL: 'info' }, ['--bundle', EXAMPLE_BUNDLE]);
    try {
      assert.ok(server.logs().some((line) => line.msg === 'bundle applied'));
      const response = await fetch(`${server.url}/api/auth/provider/local/token`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'bob', password: 'bob_password' }),
      });
      assert.equal(response.status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('a port in use: one line saying so, exit 6', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const result = await gatehouse(['serve', '--port', String(port)], { env: box.env });
      refused(result, EXIT.unavailable, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
      assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  test('a bad flag value names the key and where it came from, exit 5', async () => {
    const result = await gatehouse(['serve', '--port', '70000'], { env: box.env });
    refused(result, EXIT.invalid, /port must be an integer from 0 to 65535 \(got "70000" from flag --port\)/);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  });

  test('a bad environment value names the variable, exit 5', async () => {
    const result = await gatehouse(['serve'], { env: { ...box.env, GATEHOUSE_ACCESS_TOKEN_TTL: 'forever' } });
    refused(result, EXIT.invalid, /accessTokenTtl must be .*GATEHOUSE_ACCESS_TOKEN_TTL/);
  });

  test('a bad config file value names the key and the file, exit 5', async () => {
    const file = join(box.dir, 'gatehouse.yaml');
    writeFileSync(file, 'sessionMaxAge: -5\n');
    refused(
      await gatehouse(['serve', '--port', '0', '--config', file], { env: box.env }),
      EXIT.invalid,
      /sessionMaxAge must be an integer .*config file .*gatehouse\.yaml/,
    );
  });

  test('an invalid bundle stops start-up, exit 5', async () => {
    const file = join(box.dir, 'bad-bundle.yaml');
    writeFileSync(file, 'users:\n  - { username: bob, roles: admin }\n');
    const result = await gatehouse(['serve', '--port', '0', '--bundle', file], { env: box.env });
    refused(result, EXIT.invalid, /bad-bundle\.yaml is not valid/);
    assert.match(result.stderr, /roles/);
  });

  test('a missing bundle file stops start-up, exit 5', async () => {
    const result = await gatehouse(['serve', '--port', '0', '--bundle', join(box.dir, 'nope.yaml')], { env: box.env });
    refused(result, EXIT.invalid, /cannot read bundle .*nope\.yaml: no such file/);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  });
});
