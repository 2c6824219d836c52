// `gatehouse serve --tls-cert --tls-key` in a real process: HTTPS with a certificate made by
// `gatehouse cert self-signed`, HSTS on every answer, a TPP client's calls as vcert sends them,
// TLS 1.2+ with AEAD suites only, an RSA key with an intermediate in the chain, clear refusals of
// a bad pair at start-up, SIGHUP reloading the certificate for new connections while an open one
// carries on, and the plain-HTTP redirect.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect, type TLSSocket, type ConnectionOptions } from 'node:tls';
import { EXIT } from '../../src/cli/errors.ts';
import { EXAMPLE_BUNDLE, gatehouse, sandbox, startServerProcess, type Sandbox, type ServerProcess } from '../cli/process.ts';

interface Pair {
  readonly cert: string;
  readonly key: string;
  readonly fingerprint: string;
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly fingerprint: string;
  /** Whether the request went over a connection opened before it (keep-alive). */
  readonly reused: boolean;
}

/** A self-signed pair made by the command itself. */
async function selfSigned(box: Sandbox, name: string, hosts = ['127.0.0.1', 'localhost']): Promise<Pair> {
  const out = join(box.dir, name);
  const result = await gatehouse(['cert', 'self-signed', ...hosts.flatMap((h) => ['--host', h]), '--out', out], { env: box.env });
  assert.equal(result.code, 0, result.stderr);
  const cert = join(out, 'cert.pem');
  return { cert, key: join(out, 'key.pem'), fingerprint: new X509Certificate(readFileSync(cert)).fingerprint256 };
}

function tlsArgs(pair: { cert: string; key: string }): string[] {
  return ['--tls-cert', pair.cert, '--tls-key', pair.key];
}

function fetchHttps(
  url: string,
  options: { ca: string | Buffer | (string | Buffer)[]; agent?: Agent; method?: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: options.method ?? 'GET', ca: options.ca, headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const socket = res.socket as TLSSocket;
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, fingerprint, reused: req.reusedSocket }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function fetchHttp(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Opens a raw TLS connection: the protocol and cipher agreed, or the error of the handshake. */
function handshake(url: string, options: ConnectionOptions): Promise<{ protocol: string | null; cipher: string } | { error: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), servername: undefined, ...options }, () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(result);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

/** Runs `gatehouse serve` that is expected to refuse to start. */
async function refusedServe(box: Sandbox, args: string[], env: NodeJS.ProcessEnv = box.env) {
  const result = await gatehouse(['serve', '--port', '0', ...args], { env, timeoutMs: 30_000 });
  assert.equal(result.code, EXIT.invalid, `exit ${EXIT.invalid} expected; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.match(lines[0] ?? '', /^gatehouse: configuration: /);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  return lines[0] ?? '';
}

/**
 * A root CA, an intermediate CA and an RSA server certificate the intermediate signs: the server
 * must send the intermediate for a client that trusts the root only.
 */
async function rsaChain(dir: string): Promise<{ root: string; chain: string; key: string; fingerprint: string }> {
  await import('reflect-metadata/lite');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const [rootKeys, midKeys, leafKeys] = await Promise.all([0, 1, 2].map(() => webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])));
  if (!rootKeys || !midKeys || !leafKeys) throw new Error('no keys');
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const caExtensions = async (keys: webcrypto.CryptoKeyPair, issuerKey: webcrypto.CryptoKey) => [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuerKey),
  ];
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Gatehouse Test Root',
    notBefore,
    notAfter,
    signingAlgorithm: rsa,
    keys: rootKeys,
    extensions: await caExtensions(rootKeys, rootKeys.publicKey),
  });
  const mid = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=Gatehouse Test Intermediate',
    issuer: root.subject,
    notBefore,
    notAfter,
    signingAlgorithm: rsa,
    publicKey: midKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: await caExtensions(midKeys, rootKeys.publicKey),
  });
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '03',
    subject: 'CN=127.0.0.1',
    issuer: mid.subject,
    notBefore,
    notAfter,
    signingAlgorithm: rsa,
    publicKey: leafKeys.publicKey,
    signingKey: midKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
      await x509.AuthorityKeyIdentifierExtension.create(midKeys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey));
  // the traditional "BEGIN RSA PRIVATE KEY" form, as many tools still write it
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs1' }).toString();
  mkdirSync(dir, { recursive: true });
  const paths = { root: join(dir, 'root.pem'), chain: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem') };
  writeFileSync(paths.root, `${root.toString('pem')}\n`);
  writeFileSync(paths.chain, `${leaf.toString('pem')}\n${mid.toString('pem')}\n`);
  writeFileSync(paths.key, keyPem, { mode: 0o600 });
  return { ...paths, fingerprint: new X509Certificate(leaf.toString('pem')).fingerprint256 };
}

describe('gatehouse serve over HTTPS', () => {
  let box: Sandbox;
  let first: Pair;
  let second: Pair;
  before(async () => {
    box = sandbox({ GATEHOUSE_LOG_LEVEL: 'info' });
    [first, second] = await Promise.all([selfSigned(box, 'tls-a'), selfSigned(box, 'tls-b')]);
    assert.notEqual(first.fingerprint, second.fingerprint);
    const applied = await gatehouse(['apply', EXAMPLE_BUNDLE], { env: box.env });
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(() => box.cleanup());

  test('starts on HTTPS with a generated certificate; a client trusting it gets answers, each with HSTS', async () => {
    const server = await startServerProcess(box.env, tlsArgs(first));
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const ca = readFileSync(first.cert);
      const health = await fetchHttps(`${server.url}/healthz`, { ca });
      assert.equal(health.status, 200);
      assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
      assert.equal(health.fingerprint, first.fingerprint);
      assert.equal(health.headers['strict-transport-security'], 'max-age=31536000');

      // a Venafi client's authorize, an unknown path and an error raised before routing
      const authorize = await fetchHttps(`${server.url}/vedauth/authorize/oauth`, {
        ca,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'vcert-cli', username: 'carol', password: 'carol_password', scope: 'certificate:manage', state: '' }),
      });
      assert.equal(authorize.status, 200, authorize.body);
      assert.match(String(authorize.headers['content-type']), /^application\/json/);
      for (const answer of [authorize, await fetchHttps(`${server.url}/nowhere`, { ca }), await fetchHttps(`${server.url}/vedauth/%zz`, { ca })]) {
        assert.equal(answer.headers['strict-transport-security'], 'max-age=31536000', `HSTS on ${answer.status}`);
      }

      // the certificate is refused by a client that was not told to trust it
      await assert.rejects(fetchHttps(`${server.url}/healthz`, { ca: readFileSync(second.cert) }), /self-signed|unable to verify|certificate/i);
      // and nothing is served over plain HTTP on the HTTPS port
      await assert.rejects(fetchHttp(`${server.url.replace('https:', 'http:')}/healthz`));

      const listening = server.logs().find((line) => line.msg === 'TLS certificate loaded') as { certificate?: { fingerprint256?: string } } | undefined;
      assert.equal(listening?.certificate?.fingerprint256, first.fingerprint, 'the log names the certificate served');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test("a TPP client's calls over HTTPS, sent as vcert sends them: 200s, JSON answers, single-use refresh tokens", async () => {
    const server = await startServerProcess(box.env, tlsArgs(first));
    const ca = readFileSync(first.cert);
    // vcert (Python requests) sends Content-Type: application/json on every call, GETs included
    const headers = { 'content-type': 'application/json', 'cache-control': 'no-cache', accept: '*/*', 'user-agent': 'python-requests/2.28.1' };
    const call = (method: string, path: string, body?: unknown, token?: string) =>
      fetchHttps(`${server.url}${path}`, {
        ca,
        method,
        headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const json = (answer: Answer) => {
      assert.match(String(answer.headers['content-type']), /^application\/json/, `JSON answer to ${answer.status}: ${answer.body}`);
      return JSON.parse(answer.body) as Record<string, unknown>;
    };
    const authorize = async () => {
      const answer = await call('POST', '/vedauth/authorize/oauth', {
        username: 'carol',
        password: 'carol_password',
        client_id: 'vcert-cli',
        scope: 'certificate:manage,revoke',
        state: '',
      });
      assert.equal(answer.status, 200, answer.body);
      return json(answer);
    };
    try {
      const granted = await authorize();
      assert.equal(granted.token_type, 'Bearer');
      const refreshed = await call('POST', '/vedauth/authorize/token', { refresh_token: granted.refresh_token, client_id: 'vcert-cli' });
      assert.equal(refreshed.status, 200, refreshed.body);
      const next = json(refreshed);
      assert.notEqual(next.access_token, granted.access_token);
      assert.notEqual(next.refresh_token, granted.refresh_token);
      assert.equal(next.refresh_until, granted.refresh_until);

      // paths in any case, bodiless GETs and POSTs that carry the JSON content type
      const verified = await call('GET', '/VEDAUTH/Authorize/Verify', undefined, String(next.access_token));
      assert.equal(verified.status, 200, verified.body);
      assert.equal(json(verified).application, 'vcert-cli');
      const scopes = await call('POST', '/VedSdk/OAuth/GetScopes', undefined, String(next.access_token));
      assert.equal(scopes.status, 403, 'certificate:manage,revoke is not admin');
      assert.equal(json(scopes).error, 'insufficient_scope');

      // the used refresh token is refused at once, and that reuse ends the grant
      const reused = await call('POST', '/vedauth/authorize/token', { refresh_token: granted.refresh_token, client_id: 'vcert-cli' });
      assert.equal(reused.status, 400);
      assert.equal(json(reused).error, 'invalid_grant');
      assert.equal((await call('GET', '/vedauth/authorize/verify', undefined, String(next.access_token))).status, 401);

      // revoke: 200 with a JSON body, then the token and its refresh token are refused
      const other = await authorize();
      const revoked = await call('GET', '/vedauth/revoke/token', undefined, String(other.access_token));
      assert.equal(revoked.status, 200, revoked.body);
      assert.deepEqual(json(revoked), {});
      const refused = await call('GET', '/vedauth/authorize/verify', undefined, String(other.access_token));
      assert.equal(refused.status, 401);
      assert.equal(json(refused).error, 'invalid_token');
      const dead = await call('POST', '/vedauth/authorize/token', { refresh_token: other.refresh_token, client_id: 'vcert-cli' });
      assert.equal(dead.status, 400);
      assert.equal(json(dead).error, 'invalid_grant');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('TLS 1.2 and 1.3 only, and for TLS 1.2 only forward-secret AEAD suites', async () => {
    const server = await startServerProcess(box.env, tlsArgs(first));
    try {
      const ca = readFileSync(first.cert);
      assert.deepEqual(await handshake(server.url, { ca, maxVersion: 'TLSv1.3', minVersion: 'TLSv1.3' }), {
        protocol: 'TLSv1.3',
        cipher: 'TLS_AES_128_GCM_SHA256',
      });
      assert.deepEqual(await handshake(server.url, { ca, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), {
        protocol: 'TLSv1.2',
        cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256',
      });
      // the server answers an offer of TLS 1.1 with a protocol_version alert
      assert.deepEqual(await handshake(server.url, { ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), {
        error: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
      });
      // and a TLS 1.2 offer of CBC suites alone (which Node's default list still accepts) with handshake_failure
      for (const ciphers of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384']) {
        const result = await handshake(server.url, { ca, maxVersion: 'TLSv1.2', ciphers });
        assert.ok('error' in result && /HANDSHAKE_FAILURE/.test(result.error), `${ciphers}: ${JSON.stringify(result)}`);
      }
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('an RSA key, with the intermediate certificate in the chain file', async () => {
    const pki = await rsaChain(join(box.dir, 'rsa'));
    const server = await startServerProcess(box.env, ['--tls-cert', pki.chain, '--tls-key', pki.key]);
    try {
      // the client trusts the root only: the server must present the intermediate too
      const answer = await fetchHttps(`${server.url}/healthz`, { ca: readFileSync(pki.root) });
      assert.equal(answer.status, 200);
      assert.equal(answer.fingerprint, pki.fingerprint);
      const tls12 = await handshake(server.url, { ca: readFileSync(pki.root), maxVersion: 'TLSv1.2' });
      assert.ok('cipher' in tls12 && /^ECDHE-RSA-(AES\d+-GCM|CHACHA20)/.test(tls12.cipher), JSON.stringify(tls12));
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('a bad certificate or key is refused at start with a message naming the file, before anything is opened', async () => {
    const dataDir = join(box.dir, 'never-created');
    const env = { ...box.env, GATEHOUSE_DATA_DIR: dataDir };

    // a key that is not the certificate's
    const mismatch = await refusedServe(box, ['--tls-cert', first.cert, '--tls-key', second.key], env);
    assert.ok(mismatch.includes(`tlsKey ${second.key} is not the private key of the certificate in tlsCert ${first.cert}`), mismatch);

    // a missing file, either one
    const missing = join(box.dir, 'missing', 'cert.pem');
    const noCert = await refusedServe(box, ['--tls-cert', missing, '--tls-key', first.key], env);
    assert.ok(noCert.includes(`tlsCert ${missing}: cannot read it: no such file`), noCert);
    const noKey = await refusedServe(box, ['--tls-cert', first.cert, '--tls-key', missing], env);
    assert.ok(noKey.includes(`tlsKey ${missing}: cannot read it: no such file`), noKey);

    // a path that cannot be read as a file
    const directory = await refusedServe(box, ['--tls-cert', box.dir, '--tls-key', first.key], env);
    assert.ok(directory.includes(`tlsCert ${box.dir}: cannot read it: it is a directory`), directory);

    // files that are not what they should be: the two swapped, or text
    const swapped = await refusedServe(box, ['--tls-cert', first.key, '--tls-key', first.cert], env);
    assert.ok(swapped.includes(`tlsCert ${first.key}: not a PEM certificate`), swapped);
    const text = join(box.dir, 'notes.txt');
    writeFileSync(text, 'not a key\n');
    const notKey = await refusedServe(box, ['--tls-cert', first.cert, '--tls-key', text], env);
    assert.ok(notKey.includes(`tlsKey ${text}: not a PEM private key`), notKey);

    // a certificate without its key, from the environment
    const half = await refusedServe(box, [], { ...env, GATEHOUSE_TLS_CERT: first.cert });
    assert.match(half, /tlsCert \(from environment GATEHOUSE_TLS_CERT\) needs tlsKey too/);

    assert.equal(existsSync(dataDir), false, 'no database was created');
  });

  test('SIGHUP serves a new certificate to new connections; an open keep-alive connection carries on', async () => {
    const live = join(box.dir, 'live');
    mkdirSync(live, { recursive: true });
    const pair = { cert: join(live, 'cert.pem'), key: join(live, 'key.pem') };
    copyFileSync(first.cert, pair.cert);
    copyFileSync(first.key, pair.key);
    const server = await startServerProcess(box.env, tlsArgs(pair));
    const ca = [readFileSync(first.cert), readFileSync(second.cert)];
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    try {
      const before = await fetchHttps(`${server.url}/healthz`, { ca, agent });
      assert.equal(before.fingerprint, first.fingerprint);
      assert.equal(before.reused, false);

      // renew: new files in place, then SIGHUP
      copyFileSync(second.cert, pair.cert);
      copyFileSync(second.key, pair.key);
      server.child.kill('SIGHUP');
      const reloaded = (await server.waitForLog((line) => line.msg === 'TLS certificate reloaded')) as { certificate?: { fingerprint256?: string } };
      assert.equal(reloaded.certificate?.fingerprint256, second.fingerprint);

      const fresh = await fetchHttps(`${server.url}/healthz`, { ca });
      assert.equal(fresh.status, 200);
      assert.equal(fresh.fingerprint, second.fingerprint, 'a new connection gets the new certificate');

      const kept = await fetchHttps(`${server.url}/healthz`, { ca, agent });
      assert.equal(kept.status, 200);
      assert.equal(kept.reused, true, 'the same connection as before the reload');
      assert.equal(kept.fingerprint, first.fingerprint, 'which keeps the certificate it started with');

      // a broken renewal: logged, and the last good certificate stays
      writeFileSync(pair.key, 'half a key\n');
      server.child.kill('SIGHUP');
      const failed = (await server.waitForLog((line) => line.msg === 'TLS certificate reload failed; still serving the previous certificate')) as {
        reason?: string;
      };
      assert.match(failed.reason ?? '', new RegExp(`tlsKey ${pair.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a PEM private key`));
      const still = await fetchHttps(`${server.url}/healthz`, { ca });
      assert.equal(still.status, 200);
      assert.equal(still.fingerprint, second.fingerprint);
      assert.equal(server.child.exitCode, null, 'still running');
    } finally {
      agent.destroy();
      assert.equal(await server.stop(), 0);
    }
  });

  test('the plain-HTTP listener answers 308 to the same path and query on HTTPS, and nothing else', async () => {
    const server: ServerProcess = await startServerProcess(box.env, [...tlsArgs(first), '--http-redirect-port', '0']);
    try {
      const listening = server.logs().find((line) => line.msg === 'gatehouse listening') ?? {};
      const from = String(listening.redirectFrom);
      assert.match(from, /^http:\/\/127\.0\.0\.1:\d+$/);
      const httpsPort = new URL(server.url).port;
      const redirectPort = new URL(from).port;
      assert.notEqual(redirectPort, httpsPort);

      const get = await fetchHttp(`${from}/vedauth/Authorize/verify?a=1&b=x%20y`);
      assert.equal(get.status, 308);
      assert.equal(get.headers.location, `https://127.0.0.1:${httpsPort}/vedauth/Authorize/verify?a=1&b=x%20y`);
      assert.equal(get.body, '');

      // a POST is redirected too (308 keeps method and body), and no route is served over HTTP
      const post = await fetchHttp(`${from}/vedauth/authorize/oauth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'vcert-cli', username: 'carol', password: 'carol_password', scope: 'certificate:manage' }),
      });
      assert.equal(post.status, 308);
      assert.equal(post.headers.location, `https://127.0.0.1:${httpsPort}/vedauth/authorize/oauth`);
      const health = await fetchHttp(`${from}/healthz`);
      assert.equal(health.status, 308);
      assert.equal(health.headers.location, `https://127.0.0.1:${httpsPort}/healthz`);

      // the host the client asked for is kept, its port replaced by the HTTPS one
      const named = await fetchHttp(`${from}/docs`, { headers: { host: `localhost:${redirectPort}` } });
      assert.equal(named.headers.location, `https://localhost:${httpsPort}/docs`);

      // following the redirect reaches the server over HTTPS
      const followed = await fetchHttps(String(get.headers.location), { ca: readFileSync(first.cert), headers: { 'content-type': 'application/json' } });
      assert.equal(followed.status, 401);
      assert.equal(JSON.parse(followed.body).error, 'invalid_token');
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
