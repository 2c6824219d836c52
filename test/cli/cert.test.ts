// `gatehouse cert self-signed`: a P-256 key (mode 0600) and a self-signed server certificate for
// the given hosts, written once unless --force, with its details printed.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/errors.ts';
import { gatehouse, sandbox, type Sandbox } from './process.ts';

interface CertJson {
  cert: string;
  key: string;
  hosts: string[];
  subject_alt_name: string;
  not_after: string;
  fingerprint256: string;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('gatehouse cert self-signed', () => {
  let box: Sandbox;
  before(() => (box = sandbox()));
  after(() => box.cleanup());

  test('writes a P-256 key (0600) and a certificate for every --host, IP addresses and DNS names in the SAN', async () => {
    const out = join(box.dir, 'tls', 'nested');
    const result = await gatehouse(
      ['cert', 'self-signed', '--host', '127.0.0.1', '--host', 'gatehouse.test', '--host', '::1', '--out', out, '--days', '30', '--json'],
      { env: box.env },
    );
    assert.equal(result.code, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as CertJson;
    assert.equal(printed.cert, join(out, 'cert.pem'));
    assert.equal(printed.key, join(out, 'key.pem'));
    assert.deepEqual(printed.hosts, ['127.0.0.1', 'gatehouse.test', '::1']);

    const cert = new X509Certificate(readFileSync(printed.cert));
    const key = createPrivateKey(readFileSync(printed.key));
    assert.equal(printed.fingerprint256, cert.fingerprint256);
    assert.equal(cert.subjectAltName, 'IP Address:127.0.0.1, DNS:gatehouse.test, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkHost('gatehouse.test'), 'gatehouse.test');
    assert.equal(cert.checkHost('elsewhere.test'), undefined);

    // a P-256 key, and the certificate is its own
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(cert.checkPrivateKey(key), 'the key is the certificate key');
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.equal(cert.subject, cert.issuer);

    // a server certificate, not a CA, valid now for the days asked
    assert.equal(cert.ca, false);
    assert.deepEqual(cert.keyUsage, [SERVER_AUTH]);
    const now = Date.now();
    assert.ok(cert.validFromDate.getTime() <= now);
    const days = (cert.validToDate.getTime() - now) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `valid for ${days} days`);
    assert.equal(printed.not_after, cert.validToDate.toISOString());

    assert.equal(mode(printed.key), 0o600, 'the key is readable by its owner only');
    assert.equal(mode(join(box.dir, 'tls', 'nested')), 0o700, 'a new directory is private');
  });

  test('without --host: localhost, 127.0.0.1 and ::1; the human output says it is not for production', async () => {
    const out = join(box.dir, 'default');
    const result = await gatehouse(['cert', 'self-signed', '--out', out], { env: box.env });
    assert.equal(result.code, 0, result.stderr);
    const cert = new X509Certificate(readFileSync(join(out, 'cert.pem')));
    assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.match(result.stdout, new RegExp(`^certificate  ${join(out, 'cert.pem')}$`, 'm'));
    assert.match(result.stdout, /^private key {2}.*key\.pem \(mode 0600\)$/m);
    assert.match(result.stdout, new RegExp(`^SHA-256 {6}${cert.fingerprint256}$`, 'm'));
    assert.match(result.stderr, /not for production/);
    assert.match(result.stderr, /gatehouse serve --tls-cert .*cert\.pem --tls-key .*key\.pem/);
  });

  test('existing files are kept unless --force, which writes a new key, still 0600', async () => {
    const out = join(box.dir, 'again');
    const args = ['cert', 'self-signed', '--host', 'localhost', '--out', out, '--json'];
    const first = JSON.parse((await gatehouse(args, { env: box.env })).stdout) as CertJson;

    const refused = await gatehouse(args, { env: box.env });
    assert.equal(refused.code, EXIT.invalid);
    assert.match(refused.stderr, new RegExp(`${join(out, 'key.pem')} exists already: pass --force`));
    assert.equal(new X509Certificate(readFileSync(first.cert)).fingerprint256, first.fingerprint256, 'left as it was');

    // a certificate alone is not overwritten either, and no key is written beside it
    rmSync(first.key);
    const alone = await gatehouse(args, { env: box.env });
    assert.equal(alone.code, EXIT.invalid);
    assert.match(alone.stderr, new RegExp(`${join(out, 'cert.pem')} exists already`));
    assert.equal(existsSync(first.key), false);

    const forced = await gatehouse([...args, '--force'], { env: box.env });
    assert.equal(forced.code, 0, forced.stderr);
    const second = JSON.parse(forced.stdout) as CertJson;
    assert.notEqual(second.fingerprint256, first.fingerprint256);
    const cert = new X509Certificate(readFileSync(second.cert));
    assert.equal(cert.fingerprint256, second.fingerprint256);
    assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(second.key))), 'the new key goes with the new certificate');
    assert.equal(mode(second.key), 0o600);
  });

  test('a host that is neither a name nor an address, a bad --days, or no --out: usage errors', async () => {
    const out = join(box.dir, 'bad');
    const badHost = await gatehouse(['cert', 'self-signed', '--host', 'not a host', '--out', out], { env: box.env });
    assert.equal(badHost.code, EXIT.usage);
    assert.match(badHost.stderr, /--host "not a host" is neither a DNS name nor an IP address/);
    const badDays = await gatehouse(['cert', 'self-signed', '--days', '0', '--out', out], { env: box.env });
    assert.equal(badDays.code, EXIT.usage);
    assert.match(badDays.stderr, /--days must be a whole number from 1 to 3650/);
    const noOut = await gatehouse(['cert', 'self-signed'], { env: box.env });
    assert.equal(noOut.code, EXIT.usage);
    assert.match(noOut.stderr, /--out <dir>/);
  });
});
