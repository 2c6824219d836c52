// What an operator relies on, against a real `gatehouse serve` process: health and readiness,
// Prometheus metrics, the OpenAPI document and its UI, and the JWKS.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/http/app.ts';
import { VERSION } from '../../src/version.ts';
import { EXAMPLE_BUNDLE, gatehouse, sandbox, startServerProcess, type Sandbox, type ServerProcess } from '../cli/process.ts';
import { harness } from '../helpers.ts';

/** The value of one sample in a Prometheus text exposition, or undefined if absent. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function login(url: string, username: string, password: string): Promise<Response> {
  return fetch(`${url}/api/auth/provider/local/token`, {
    method: 'POST',
    body: new URLSearchParams({ username, password }),
  });
}

describe('a running server', () => {
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

  test('/healthz answers 200', async () => {
    const response = await fetch(`${server.url}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });

  test('/readyz answers 200 while the database answers', async () => {
    const response = await fetch(`${server.url}/readyz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ready' });
  });

  test('/metrics counts requests by route template and status, with a latency histogram', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const bogus = `${server.url}/api/auth/principal/00000000-0000-0000-0000-000000000000`;
    assert.equal((await fetch(bogus)).status, 401);

    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    const metrics = await response.text();
    assert.ok((sample(metrics, 'gatehouse_http_requests_total', { route: '/healthz', method: 'GET', status: '200' }) ?? 0) >= 4);
    assert.equal(
      sample(metrics, 'gatehouse_http_requests_total', { route: '/api/auth/principal/:uuid', method: 'GET', status: '401' }),
      1,
      'labelled by the route template, not the raw URL',
    );
    assert.ok(!metrics.includes('00000000-0000-0000-0000-000000000000'), 'no raw URLs in labels');
    assert.match(metrics, /^# TYPE gatehouse_http_request_duration_seconds histogram$/m);
    const count = sample(metrics, 'gatehouse_http_request_duration_seconds_count', { route: '/healthz', method: 'GET' });
    assert.ok((count ?? 0) >= 4);
    assert.ok(sample(metrics, 'gatehouse_http_request_duration_seconds_bucket', { route: '/healthz', method: 'GET', le: '+Inf' }) === count);
    assert.ok(sample(metrics, 'gatehouse_process_cpu_user_seconds_total') !== undefined, 'process metrics are collected');
  });

  test('a wrong password increments gatehouse_login_failures_total', async () => {
    const failures = async () => sample(await (await fetch(`${server.url}/metrics`)).text(), 'gatehouse_login_failures_total', { reason: 'invalid_credentials' }) ?? 0;
    const before = await failures();
    assert.equal((await login(server.url, 'bob', 'not-the-password')).status, 401);
    assert.equal(await failures(), before + 1);
    assert.equal((await login(server.url, 'bob', 'bob_password')).status, 200);
    assert.equal(await failures(), before + 1, 'a good login counts nothing');
  });

  test('/docs serves the OpenAPI UI', async () => {
    const response = await fetch(`${server.url}/docs`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await response.text(), /swagger-ui/i);
  });

  test('/docs/json is an OpenAPI 3 document of every /api/auth route with its schemas', async () => {
    const response = await fetch(`${server.url}/docs/json`);
    assert.equal(response.status, 200);
    const doc = (await response.json()) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, Operation>>;
    };
    interface Operation {
      parameters?: { name: string; in: string }[];
      requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> };
      responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
    }
    assert.match(doc.openapi, /^3\./);
    assert.equal(doc.info.version, VERSION);

    const expected = [
      'post /api/auth/provider/{provider}/token',
      'post /api/auth/session/refresh',
      'delete /api/auth/session/revoke/{session_id}',
      'post /api/auth/apikey',
      'get /api/auth/apikey',
      'delete /api/auth/apikey',
      'get /api/auth/whoami',
      'get /api/auth/scopes',
      'post /api/auth/logout',
      'get /api/auth/principal',
      'get /api/auth/principal/{uuid}',
      'post /api/auth/principal/{uuid}/apikey',
    ];
    const listed = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/auth'))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    assert.deepEqual([...listed].sort(), [...expected].sort());

    for (const entry of expected) {
      const [method, path] = entry.split(' ') as [string, string];
      const op = doc.paths[path]?.[method];
      assert.ok(op, entry);
      assert.ok(op.responses['200']?.content?.['application/json']?.schema, `${entry}: 200 schema`);
      assert.ok(op.responses['401']?.content?.['application/json']?.schema, `${entry}: error schema`);
      for (const param of path.match(/\{(\w+)\}/g) ?? []) {
        assert.ok(op.parameters?.some((p) => p.in === 'path' && `{${p.name}}` === param), `${entry}: path parameter ${param}`);
      }
    }
    const loginBody = doc.paths['/api/auth/provider/{provider}/token']?.post?.requestBody?.content['application/x-www-form-urlencoded']?.schema;
    assert.deepEqual([...(loginBody?.required ?? [])].sort(), ['password', 'username']);
    const refreshBody = doc.paths['/api/auth/session/refresh']?.post?.requestBody?.content['application/json']?.schema;
    assert.ok(refreshBody?.properties?.refresh_token);
    const keyBody = doc.paths['/api/auth/apikey']?.post?.requestBody?.content['application/json']?.schema;
    assert.deepEqual(Object.keys(keyBody?.properties ?? {}).sort(), ['expires_in', 'note', 'scopes']);
    assert.ok(doc.paths['/api/auth/apikey']?.delete?.parameters?.some((p) => p.name === 'first_eight' && p.in === 'query'));
  });

  test('/.well-known/jwks.json publishes the key that signs access tokens', async () => {
    const tokens = (await (await login(server.url, 'alice', 'alice_password')).json()) as { access_token: string };
    const header = JSON.parse(Buffer.from(tokens.access_token.split('.')[0] ?? '', 'base64url').toString()) as { kid: string; alg: string };
    const response = await fetch(`${server.url}/.well-known/jwks.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('cache-control') ?? '', /max-age=\d+/);
    const jwks = (await response.json()) as { keys: { kid: string; d?: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === header.kid), 'the signing key is published');
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private key material');
  });
});

describe('/readyz', () => {
  test('answers 503 when the services say the database is not ready', async () => {
    const h = await harness();
    try {
      let ready = true;
      const app = await buildApp({ ...h.services, ready: async () => ready });
      try {
        assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
        ready = false;
        const response = await app.inject({ url: '/readyz' });
        assert.equal(response.statusCode, 503);
        assert.deepEqual(response.json(), { status: 'unavailable' });
        assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'liveness does not depend on the database');
      } finally {
        await app.close();
      }
    } finally {
      await h.close();
    }
  });
});
