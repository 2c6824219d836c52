// Secrets never reach the log, even at level trace: drive every way a credential travels
// (form password, bearer tokens, refresh tokens in bodies, API keys in the header, the query
// and the cookie, Basic auth) and search everything the process wrote for them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXAMPLE_BUNDLE, gatehouse, sandbox, startServerProcess } from '../cli/process.ts';

interface Tokens {
  access_token: string;
  refresh_token: string;
}

test('no password, token, refresh token or API key secret appears in the logs at level trace', async () => {
  const box = sandbox({ GATEHOUSE_LOG_LEVEL: 'trace' });
  try {
    assert.equal((await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env })).code, 0);
    const server = await startServerProcess(box.env);
    const secrets: string[] = ['bob_password', 'wrong-password-4d1f9e', 'alice_password'];
    const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}/api/auth${path}`, init);
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    try {
      const form = (username: string, password: string) => ({ method: 'POST', body: new URLSearchParams({ username, password }) });
      assert.equal((await api('/provider/local/token', form('bob', 'wrong-password-4d1f9e'))).status, 401);
      const first = (await (await api('/provider/local/token', form('bob', 'bob_password'))).json()) as Tokens;
      secrets.push(first.access_token, first.refresh_token);

      const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });
      const refresh = (token: string) => {
        const { body, ...headers } = json({ refresh_token: token });
        return api('/session/refresh', { method: 'POST', headers, body });
      };
      const second = (await (await refresh(first.refresh_token)).json()) as Tokens;
      secrets.push(second.access_token, second.refresh_token);
      await refresh(first.refresh_token); // a second use: refused, or answered within a reuse grace period

      const third = (await (await api('/provider/local/token', form('alice', 'alice_password'))).json()) as Tokens;
      secrets.push(third.access_token, third.refresh_token);
      const created = await api('/apikey', {
        method: 'POST',
        headers: { ...bearer(third.access_token), 'content-type': 'application/json' },
        body: JSON.stringify({ scopes: ['read:status'], note: 'log test' }),
      });
      assert.equal(created.status, 200);
      const key = ((await created.json()) as { secret: string }).secret;
      secrets.push(key);

      assert.equal((await api(`/scopes?api_key=${key}`)).status, 200);
      assert.equal((await api('/whoami', { headers: { authorization: `Apikey ${key}` } })).status, 200);
      assert.equal((await api('/apikey', { headers: { cookie: `bluesky_httpserver_api_key=${key}` } })).status, 200);
      assert.equal((await api('/whoami', { headers: bearer(third.access_token) })).status, 200);
      const unknownKey = 'f'.repeat(72);
      secrets.push(unknownKey);
      assert.equal((await api(`/whoami?api_key=${unknownKey}`)).status, 401);
      const basic = Buffer.from('alice:alice_password').toString('base64');
      secrets.push(basic);
      assert.equal((await api('/whoami', { headers: { authorization: `Basic ${basic}` } })).status, 400);
      assert.equal((await api('/logout', { method: 'POST', headers: bearer(third.access_token) })).status, 200);
      const broken = await api('/session/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"refresh_token": "${third.refresh_token}"` });
      assert.equal(broken.status, 422);
    } finally {
      assert.equal(await server.stop(), 0);
    }

    const output = server.output();
    assert.ok(server.logs().some((line) => line.level === 20 && line.msg === 'configuration'), 'debug lines were written');
    assert.match(output, /\/api\/auth\/scopes\?api_key=\[redacted\]/, 'the requests were logged, with the key masked');
    for (const secret of secrets) {
      assert.ok(!output.includes(secret), `a secret (${secret.slice(0, 4)}…) is in the log`);
      if (secret.startsWith('ey')) {
        const signature = secret.split('.')[2] ?? '';
        assert.ok(signature.length > 20 && !output.includes(signature), 'no token signature in the log');
      }
    }
  } finally {
    box.cleanup();
  }
});
