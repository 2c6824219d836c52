// The TypeScript SDK against the real app (its fetch routed to app.inject), with a manual clock
// to let access tokens expire: login, automatic refresh, API keys, errors.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { GatehouseClient, GatehouseConnectionError, GatehouseHttpError, type TokenResponse } from '../../src/client/index.ts';
import { BOB_BUNDLE, harness, type Harness } from '../helpers.ts';
import { closedPort, ROOT } from '../cli/process.ts';

const BASE = 'http://gatehouse.test';

/** A fetch that answers from the app in-process. */
function fetchVia(app: FastifyInstance): typeof fetch {
  return async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const res = await app.inject({
      method: (init.method ?? 'GET') as 'GET',
      url: `${url.pathname}${url.search}`,
      headers: init.headers as Record<string, string>,
      ...(typeof init.body === 'string' ? { payload: init.body } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    }
    return new Response(res.statusCode === 204 || res.body === '' ? null : res.body, { status: res.statusCode, headers });
  };
}

describe('GatehouseClient', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ bundle: BOB_BUNDLE });
  });
  after(async () => h.close());

  const client = (options: Partial<ConstructorParameters<typeof GatehouseClient>[0]> = {}) =>
    new GatehouseClient({ baseUrl: `${BASE}/`, fetch: fetchVia(h.app), ...options });

  test('login keeps the tokens and reports them', async () => {
    const seen: TokenResponse[] = [];
    const c = client({ onTokens: (t) => void seen.push(t) });
    const tokens = await c.login('bob', 'bob_password');
    assert.equal(tokens.token_type, 'bearer');
    assert.deepEqual(seen, [tokens]);
    assert.deepEqual(c.credentials, { accessToken: tokens.access_token, refreshToken: tokens.refresh_token });
    const me = await c.whoami();
    assert.deepEqual([...me.roles].sort(), ['admin', 'expert']);
    assert.equal((await c.scopes()).scopes.length, 23);
  });

  test('a wrong password is a GatehouseHttpError with the server detail', async () => {
    await assert.rejects(client().login('bob', 'nope'), (error: unknown) => {
      assert.ok(error instanceof GatehouseHttpError);
      assert.equal(error.status, 401);
      assert.equal(error.detail, 'Incorrect username or password');
      return true;
    });
  });

  test('an expired access token is refreshed once, transparently, and the new tokens reported', async () => {
    const seen: TokenResponse[] = [];
    const c = client({ onTokens: (t) => void seen.push(t) });
    const first = await c.login('alice', 'alice_password');
    h.clock.advance((first.expires_in + 1) * 1000);
    const me = await c.whoami();
    assert.equal(me.identities[0]?.id, 'alice');
    assert.equal(seen.length, 2, 'login, then one refresh');
    assert.notEqual(seen[1]?.refresh_token, first.refresh_token, 'the refresh token rotated');
    h.clock.advance((h.services.config.refreshReuseGrace + 1) * 1000);
    await assert.rejects(c.refresh(first.refresh_token), GatehouseHttpError, 'the old refresh token is used up');
  });

  test('API keys: create with fewer scopes, use, inspect, delete', async () => {
    const owner = client();
    await owner.login('bob', 'bob_password');
    const key = await owner.createApiKey({ scopes: ['read:status', 'read:queue'], expiresIn: 600, note: 'sdk' });
    assert.match(key.secret, /^[0-9a-f]{72}$/);
    const c = client({ credentials: { apiKey: key.secret } });
    assert.deepEqual([...(await c.scopes()).scopes].sort(), ['read:queue', 'read:status']);
    const info = await c.apiKeyInfo();
    assert.equal(info.first_eight, key.first_eight);
    assert.equal(info.note, 'sdk');
    assert.ok(!('secret' in info));
    await owner.deleteApiKey(key.first_eight);
    await assert.rejects(c.scopes(), (error: unknown) => error instanceof GatehouseHttpError && error.status === 401 && error.detail === 'Invalid API key');
  });

  test('logout ends the session and forgets the credentials', async () => {
    const c = client();
    const tokens = await c.login('carol', 'carol_password');
    await c.logout();
    assert.equal(c.credentials, null);
    const stale = client({ credentials: { accessToken: tokens.access_token } });
    await assert.rejects(stale.whoami(), (error: unknown) => error instanceof GatehouseHttpError && error.status === 401);
  });
});

test('an unreachable server is a GatehouseConnectionError naming the URL', async () => {
  const port = await closedPort();
  const c = new GatehouseClient({ baseUrl: `http://127.0.0.1:${port}` });
  await assert.rejects(c.login('bob', 'bob_password'), (error: unknown) => {
    assert.ok(error instanceof GatehouseConnectionError);
    assert.match(error.message, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}`));
    return true;
  });
});

test('the SDK imports nothing from the server folders', () => {
  const dir = join(ROOT, 'src', 'client');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const [, target] of source.matchAll(/from\s+'([^']+)'/g)) {
      assert.ok(target?.startsWith('./') || (!target?.startsWith('.') && !target?.startsWith('/')), `${file} imports ${target}`);
    }
  }
});
