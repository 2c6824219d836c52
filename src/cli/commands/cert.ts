// gatehouse cert self-signed — a P-256 key and a self-signed certificate for the given hosts, to
// serve HTTPS locally and in tests. Not for production: nothing vouches for such a certificate,
// so every client has to be told to trust this one file.

import type { Command } from 'commander';
import { randomBytes, webcrypto, X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { CliError, EXIT } from '../errors.ts';
import { printJson, printLine, type Io } from '../io.ts';

export const DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];
const DEFAULT_DAYS = 365;
const MAX_DAYS = 3650;

export interface SelfSigned {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (PKCS #8). */
  readonly key: string;
}

/** A DNS name (optionally with a leading wildcard label) or an IP address? */
function isHostName(host: string): boolean {
  if (isIP(host) !== 0) return true;
  const label = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
  return host.length <= 253 && new RegExp(`^(?:\\*\\.)?${label}(?:\\.${label})*$`).test(host);
}

/**
 * A new P-256 key and a certificate it signs itself, naming `hosts` (IP addresses and DNS names)
 * in its subject alternative names: a server certificate (not a CA) valid from a minute ago for
 * `days` days.
 */
export async function createSelfSigned(hosts: readonly string[], days: number): Promise<SelfSigned> {
  // @peculiar/x509 builds certificates over WebCrypto; its dependency injection needs the
  // Reflect metadata API, which only this command loads.
  await import('reflect-metadata/lite');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive and without a leading zero byte
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [hosts[0] ?? 'localhost'] }, { O: ['Gatehouse self-signed (not for production)'] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((host) => ({ type: isIP(host) ? 'ip' : 'dns', value: host }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
  return { cert: `${certificate.toString('pem').trim()}\n`, key };
}

interface SelfSignedOptions {
  host?: string[];
  out: string;
  days: string;
  force?: boolean;
  json?: boolean;
}

function writeNew(path: string, text: string, mode: number, force: boolean): void {
  if (force) {
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    }
  }
  try {
    writeFileSync(path, text, { mode, flag: 'wx' });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') {
      throw new CliError(`${path} exists already: pass --force to replace it`, EXIT.invalid);
    }
    throw error;
  }
  chmodSync(path, mode); // whatever the umask
}

export function certCommands(program: Command, io: Io): void {
  const cert = program.command('cert').description('make TLS certificates for serving HTTPS');
  cert
    .command('self-signed')
    .description('write a new P-256 key and a self-signed certificate for local use and tests (not for production)')
    .option('--host <name>', `a DNS name or IP address the certificate is for; repeat for more (default ${DEFAULT_HOSTS.join(', ')})`, (value: string, previous: string[] = []) => [...previous, value])
    .requiredOption('-o, --out <dir>', 'directory to write cert.pem and key.pem (mode 0600) to; created if missing')
    .option('--days <n>', `days the certificate is valid (1 to ${MAX_DAYS})`, String(DEFAULT_DAYS))
    .option('--force', 'replace cert.pem and key.pem if they exist')
    .option('--json', 'print the paths and the certificate details as JSON')
    .addHelpText(
      'after',
      '\nNothing vouches for a self-signed certificate: each client must be told to trust this file\n' +
        '(curl --cacert, Python requests verify=, NODE_EXTRA_CA_CERTS). Use a certificate from your\n' +
        'CA in production. Serve with: gatehouse serve --tls-cert DIR/cert.pem --tls-key DIR/key.pem\n',
    )
    .action(async (opts: SelfSignedOptions) => {
      const hosts = [...new Set(opts.host && opts.host.length > 0 ? opts.host : DEFAULT_HOSTS)];
      for (const host of hosts) {
        if (!isHostName(host)) throw new CliError(`--host "${host}" is neither a DNS name nor an IP address`, EXIT.usage);
      }
      if (!/^\d+$/.test(opts.days) || Number(opts.days) < 1 || Number(opts.days) > MAX_DAYS) {
        throw new CliError(`--days must be a whole number from 1 to ${MAX_DAYS}`, EXIT.usage);
      }
      const { cert, key } = await createSelfSigned(hosts, Number(opts.days));
      const dir = resolve(opts.out);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const certPath = join(dir, 'cert.pem');
      const keyPath = join(dir, 'key.pem');
      // both or neither: never a new key beside an old certificate
      const existing = opts.force ? undefined : [keyPath, certPath].find((path) => existsSync(path));
      if (existing) throw new CliError(`${existing} exists already: pass --force to replace it`, EXIT.invalid);
      writeNew(keyPath, key, 0o600, opts.force === true);
      writeNew(certPath, cert, 0o644, opts.force === true);
      const parsed = new X509Certificate(cert);
      if (opts.json) {
        printJson(io, {
          cert: certPath,
          key: keyPath,
          hosts,
          subject_alt_name: parsed.subjectAltName ?? '',
          not_after: parsed.validToDate.toISOString(),
          fingerprint256: parsed.fingerprint256,
        });
        return;
      }
      printLine(io, `certificate  ${certPath}`);
      printLine(io, `private key  ${keyPath} (mode 0600)`);
      printLine(io, `hosts        ${hosts.join(', ')}`);
      printLine(io, `valid until  ${parsed.validToDate.toISOString()}`);
      printLine(io, `SHA-256      ${parsed.fingerprint256}`);
      io.stderr.write(
        'A self-signed certificate is for local use and tests only, not for production: clients must be told to trust this file.\n' +
          `Serve with: gatehouse serve --tls-cert ${certPath} --tls-key ${keyPath}\n`,
      );
    });
}
