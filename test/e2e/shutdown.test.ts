// SIGTERM stops the server gracefully: a request already in flight still gets its answer, the
// process exits 0 and the log says it stopped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { EXAMPLE_BUNDLE, gatehouse, sandbox, startServerProcess } from '../cli/process.ts';

test('SIGTERM lets an in-flight login finish, then exits 0', async () => {
  const box = sandbox();
  try {
    assert.equal((await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env })).code, 0);
    const server = await startServerProcess(box.env);
    const url = new URL('/api/auth/provider/local/token', server.url);
    const body = new URLSearchParams({ username: 'bob', password: 'bob_password' }).toString();

    // Send the headers and half the body: the request is in flight until the rest arrives.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      void server
        .waitForLog((line) => line.msg === 'incoming request' && (line.req as { url?: string } | undefined)?.url === url.pathname)
        .then(async () => {
          server.child.kill('SIGTERM');
          await server.waitForLog((line) => line.msg === 'shutting down' && line.signal === 'SIGTERM');
          req.end(body.slice(10));
        })
        .catch(reject);
    });

    const response = await answer;
    assert.equal(response.status, 200, response.body);
    assert.match((JSON.parse(response.body) as { access_token: string }).access_token, /^ey/);
    assert.equal(await server.exited, 0);
    const messages = server.logs().map((line) => line.msg);
    assert.ok(messages.includes('gatehouse stopped'), 'the log says it stopped');
    assert.ok(messages.indexOf('shutting down') < messages.indexOf('gatehouse stopped'));
  } finally {
    box.cleanup();
  }
});
