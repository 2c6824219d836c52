// POST /api/auth/provider/{provider}/token — successful logins.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { harness } from '../../helpers.ts';
import { bearer, FACE_BUNDLE, faceHarness, form, PREFIX, scopesOf, send, sessionIdOf } from './fixtures.ts';

describe('POST /provider/{provider}/token (happy)', () => {
  test('form login returns the token object the Python client expects', async () => {
    const h = await faceHarness();
    try {
      const res = await send(h, { method: 'POST', url: `${PREFIX}/provider/local/token`, ...form({ username: 'bob', password: 'bob_password' }) });
      assert.equal(res.statusCode, 200);
      const body = res.json<Record<string, unknown>>();
      assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'token_type']);
      assert.equal(body.expires_in, 900);
      assert.equal(body.refresh_token_expires_in, 604800);
      assert.equal(body.token_type, 'bearer');
      assert.equal(typeof body.access_token, 'string');
      assert.equal((body.access_token as string).split('.').length, 3, 'the access token is a JWT');
      // refresh tokens are opaque: not a JWT, 32 random bytes in base64url
      assert.match(body.refresh_token as string, /^[A-Za-z0-9_-]{43}$/);
      const granted = await scopesOf(h, bearer(body.access_token as string));
      assert.deepEqual(granted.roles, ['admin', 'expert']);
      assert.equal(granted.scopes.length, 23);
    } finally {
      await h.close();
    }
  });

  test('the token authenticates the user and records the identity with its provider', async () => {
    const h = await faceHarness();
    try {
      const res = await send(h, { method: 'POST', url: `${PREFIX}/provider/local/token`, ...form({ username: 'alice', password: 'alice_password' }) });
      const tokens = res.json<{ access_token: string }>();
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(tokens.access_token) });
      assert.equal(who.statusCode, 200);
      const principal = who.json<{ uuid: string; identities: { id: string; provider: string; latest_login: string }[]; sessions: { uuid: string }[] }>();
      assert.equal(principal.uuid, (await h.services.users.get('alice')).id);
      assert.deepEqual(principal.identities, [{ id: 'alice', provider: 'local', latest_login: '2026-11-23T12:00:00' }]);
      assert.deepEqual(principal.sessions.map((s) => s.uuid), [sessionIdOf(tokens.access_token)]);
    } finally {
      await h.close();
    }
  });

  test('each login starts its own session', async () => {
    const h = await faceHarness();
    try {
      const login = () => send(h, { method: 'POST', url: `${PREFIX}/provider/local/token`, ...form({ username: 'carol', password: 'carol_password' }) });
      const a = (await login()).json<{ access_token: string; refresh_token: string }>();
      const b = (await login()).json<{ access_token: string; refresh_token: string }>();
      assert.notEqual(sessionIdOf(a.access_token), sessionIdOf(b.access_token));
      assert.notEqual(a.refresh_token, b.refresh_token);
    } finally {
      await h.close();
    }
  });

  test('the extra OAuth2 form fields a password-flow client may send are accepted', async () => {
    const h = await faceHarness();
    try {
      const res = await send(h, {
        method: 'POST',
        url: `${PREFIX}/provider/local/token`,
        ...form({ grant_type: 'password', username: 'bob', password: 'bob_password', scope: '', client_id: '', client_secret: '' }),
      });
      assert.equal(res.statusCode, 200);
    } finally {
      await h.close();
    }
  });

  test('the provider name is part of the URL; configured providers log in', async () => {
    const h = await harness({ bundle: FACE_BUNDLE, config: { passwordProviders: ['toy'] } });
    try {
      const res = await send(h, { method: 'POST', url: `${PREFIX}/provider/toy/token`, ...form({ username: 'bob', password: 'bob_password' }) });
      assert.equal(res.statusCode, 200);
      const who = await send(h, { method: 'GET', url: `${PREFIX}/whoami`, headers: bearer(res.json<{ access_token: string }>().access_token) });
      assert.equal(who.json<{ identities: { provider: string }[] }>().identities[0]?.provider, 'toy');
    } finally {
      await h.close();
    }
  });
});
