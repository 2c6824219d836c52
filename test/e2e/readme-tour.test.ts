// The README's curl tours (the queue-server face and the Venafi TPP face), run verbatim with bash
// against a real server (only the base URL is changed to the server's free port), so the
// documented commands keep working.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLE_BUNDLE, gatehouse, ROOT, sandbox, startServerProcess } from '../cli/process.ts';

const DOCUMENTED_BASE = 'http://127.0.0.1:8000';

/** The one ```sh block between <!-- <name>:begin --> and <!-- <name>:end -->. */
function tourBlock(readme: string, name = 'tour'): string {
  const match = new RegExp(`<!-- ${name}:begin -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no \`\`\`sh block between <!-- ${name}:begin --> and <!-- ${name}:end -->`);
  return match[1];
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the README tour runs as documented', async () => {
  const block = tourBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.ok(block.includes(DOCUMENTED_BASE), 'the tour uses the documented address');

  const box = sandbox();
  const server = await startServerProcess(box.env);
  try {
    // The README's second terminal: apply the example bundle while the server runs.
    assert.equal((await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env })).code, 0);

    const script = block.split(DOCUMENTED_BASE).join(server.url);
    const result = await bash(script, box.dir, box.env);
    assert.equal(result.code, 0, `the tour failed:\n${result.stdout}\n${result.stderr}`);
    assert.equal(result.stderr, '');

    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 7, result.stdout);
    const [whoami, scopes, keyLine, keyScopes, revoked, refused, status] = lines as [string, string, string, string, string, string, string];

    const me = JSON.parse(whoami) as { uuid: string; type: string; roles: string[]; identities: { id: string; provider: string }[] };
    assert.match(me.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(me.type, 'user');
    assert.deepEqual(me.roles, ['admin', 'expert']);
    assert.deepEqual(me.identities, [{ id: 'bob', provider: 'local' }]);

    const bob = JSON.parse(scopes) as { roles: string[]; scopes: string[] };
    assert.deepEqual(bob.roles, ['admin', 'expert']);
    assert.equal(bob.scopes.length, 23);
    for (const scope of ['admin:apikeys', 'read:status', 'read:queue', 'write:queue:edit', 'user:apikeys']) assert.ok(bob.scopes.includes(scope), scope);

    assert.match(keyLine, /^API key [0-9a-f]{8}… \(72 hex characters; shown only once\)$/);
    assert.deepEqual(JSON.parse(keyScopes), { roles: ['admin', 'expert'], scopes: ['read:queue', 'read:status'] });
    assert.deepEqual(JSON.parse(revoked), { success: true, msg: '' });
    assert.deepEqual(JSON.parse(refused), { detail: 'Invalid API key' });
    assert.equal(status, 'HTTP 401');
  } finally {
    await server.stop();
    box.cleanup();
  }
});

test('the README Venafi tour runs as documented', async () => {
  const block = tourBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'venafi-tour');
  assert.ok(block.includes(DOCUMENTED_BASE), 'the tour uses the documented address');

  const box = sandbox();
  const server = await startServerProcess(box.env);
  try {
    assert.equal((await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env })).code, 0);

    const script = block.split(DOCUMENTED_BASE).join(server.url);
    const result = await bash(script, box.dir, box.env);
    assert.equal(result.code, 0, `the tour failed:\n${result.stdout}\n${result.stderr}`);
    assert.equal(result.stderr, '');

    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 7, result.stdout);
    const [granted, verified, scopes, refreshed, revoked, refused, status] = lines as [string, string, string, string, string, string, string];
    assert.deepEqual(JSON.parse(granted), { scope: 'admin;certificate:manage,revoke', token_type: 'Bearer', expires_in: 7776000 });
    assert.deepEqual(JSON.parse(verified), { application: 'vcert-cli', scope: 'admin;certificate:manage,revoke', valid_for: 7776000 });
    assert.deepEqual(JSON.parse(scopes), [
      'admin',
      'configuration',
      'security',
      'restricted',
      'statistics',
      'codesignclient',
      'codesign',
      'certificate',
      'ssh',
      'agent',
      'codesigning',
    ]);
    assert.deepEqual(JSON.parse(refreshed), { new_access_token: true, same_refresh_until: true });
    assert.deepEqual(JSON.parse(revoked), {});
    assert.deepEqual(JSON.parse(refused), {
      error: 'invalid_token',
      error_description: 'the grant of this access token was revoked or has expired',
    });
    assert.equal(status, 'HTTP 401');
  } finally {
    await server.stop();
    box.cleanup();
  }
});
