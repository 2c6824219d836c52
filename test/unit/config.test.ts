// Configuration: defaults < file (JSON or YAML) < GATEHOUSE_* environment < flags; every bad
// value is refused with the key and the place it came from; the result is frozen.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CONFIG_KEYS, ConfigError, DEFAULTS, envName, flagName, loadConfig, type Config } from '../../src/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(name: string, text: string): string {
  const path = join(dir, `${files++}-${name}`);
  writeFileSync(path, text);
  return path;
}

/** Asserts that loading fails with a ConfigError whose message contains every fragment. */
function refuses(load: () => unknown, ...fragments: string[]): void {
  assert.throws(load, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    for (const f of fragments) assert.ok(error.message.includes(f), `"${error.message}" should mention "${f}"`);
    return true;
  });
}

describe('defaults', () => {
  test('with no file, environment or flags', () => {
    const config = loadConfig({ env: {}, cwd: dir });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8000);
    assert.equal(config.dataDir, join(dir, 'data'));
    assert.equal(config.databaseUrl, `sqlite:${join(dir, 'data', 'gatehouse.db')}`);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.issuer, 'gatehouse');
    assert.equal(config.accessTokenTtl, 900);
    assert.equal(config.refreshTokenTtl, 7 * 86400);
    assert.equal(config.sessionMaxAge, 365 * 86400);
    assert.equal(config.keyRotationInterval, 30 * 86400);
    assert.deepEqual(config.passwordProviders, ['local']);
    assert.equal(config.bodyLimit, 1024 * 1024);
    assert.equal(config.trustProxy, false);
    assert.equal(config.bundle, null);
    assert.equal(config.argon2MemoryKiB, 19456);
    assert.equal(config.argon2Iterations, 2);
    assert.equal(config.argon2Parallelism, 1);
    assert.equal(config.passwordConcurrency, 2);
    assert.equal(config.activityFlushInterval, 5);
  });

  test('every key has a default, a help text and a valid default value', () => {
    assert.deepEqual(Object.keys(DEFAULTS).sort(), Object.keys(CONFIG_KEYS).sort());
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) assert.ok(spec.help.length > 0, key);
  });

  test('the result is frozen, lists too', () => {
    const config = loadConfig({ env: {}, cwd: dir });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.passwordProviders));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => (config.passwordProviders as string[]).push('x'), TypeError);
    assert.equal(config.port, 8000);
  });
});

describe('names', () => {
  test('environment variables and flags are derived from the keys', () => {
    assert.equal(envName('port'), 'GATEHOUSE_PORT');
    assert.equal(envName('dataDir'), 'GATEHOUSE_DATA_DIR');
    assert.equal(envName('databaseUrl'), 'GATEHOUSE_DATABASE_URL');
    assert.equal(envName('argon2MemoryKiB'), 'GATEHOUSE_ARGON2_MEMORY_KIB');
    assert.equal(flagName('dataDir'), '--data-dir');
    assert.equal(flagName('argon2MemoryKiB'), '--argon2-memory-kib');
    for (const key of Object.keys(CONFIG_KEYS)) {
      assert.match(envName(key), /^GATEHOUSE_[A-Z0-9]+(_[A-Z0-9]{2,})*$/, key);
      assert.match(flagName(key), /^--[a-z0-9]+(-[a-z0-9]{2,})*$/, key);
    }
  });
});

describe('sources', () => {
  test('a JSON file', () => {
    const path = file('c.json', JSON.stringify({ port: 9000, trustProxy: true, passwordProviders: ['toy', 'ldap'] }));
    const config = loadConfig({ file: path, env: {}, cwd: dir });
    assert.equal(config.port, 9000);
    assert.equal(config.trustProxy, true);
    assert.deepEqual(config.passwordProviders, ['toy', 'ldap']);
  });

  test('a YAML file, found through GATEHOUSE_CONFIG, relative to the working directory', () => {
    file('c.yaml', 'port: 9001\nlogLevel: debug\nbundle: policy.yaml\n');
    const name = `${files - 1}-c.yaml`;
    const config = loadConfig({ env: { GATEHOUSE_CONFIG: name }, cwd: dir });
    assert.equal(config.port, 9001);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.bundle, join(dir, 'policy.yaml'));
  });

  test('an empty file changes nothing', () => {
    const config = loadConfig({ file: file('empty.yaml', ''), env: {}, cwd: dir });
    assert.equal(config.port, 8000);
  });

  test('environment variables, with strings coerced', () => {
    const config = loadConfig({
      env: {
        GATEHOUSE_PORT: '7000',
        GATEHOUSE_TRUST_PROXY: 'yes',
        GATEHOUSE_PASSWORD_PROVIDERS: 'toy, ldap ,',
        GATEHOUSE_ARGON2_MEMORY_KIB: '4096',
        GATEHOUSE_DATABASE_URL: 'postgres://gh@db/gatehouse',
        GATEHOUSE_HOST: '', // empty: ignored
      },
      cwd: dir,
    });
    assert.equal(config.port, 7000);
    assert.equal(config.trustProxy, true);
    assert.deepEqual(config.passwordProviders, ['toy', 'ldap']);
    assert.equal(config.argon2MemoryKiB, 4096);
    assert.equal(config.databaseUrl, 'postgres://gh@db/gatehouse');
    assert.equal(config.host, '127.0.0.1');
  });

  test('precedence: defaults < file < environment < flags', () => {
    const path = file('p.yaml', 'port: 1001\nhost: 0.0.0.0\nissuer: from-file\nlogLevel: warn\n');
    const config = loadConfig({
      file: path,
      env: { GATEHOUSE_PORT: '1002', GATEHOUSE_ISSUER: 'from-env' },
      flags: { port: 1003, dataDir: 'elsewhere' },
      cwd: dir,
    });
    assert.equal(config.port, 1003, 'flag beats environment and file');
    assert.equal(config.issuer, 'from-env', 'environment beats file');
    assert.equal(config.host, '0.0.0.0', 'file beats default');
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.accessTokenTtl, 900, 'default when nobody says');
    assert.equal(config.dataDir, join(dir, 'elsewhere'));
    assert.equal(config.databaseUrl, `sqlite:${join(dir, 'elsewhere', 'gatehouse.db')}`);
  });

  test('an undefined flag does not override', () => {
    const config = loadConfig({ env: { GATEHOUSE_PORT: '1234' }, flags: { port: undefined }, cwd: dir });
    assert.equal(config.port, 1234);
  });
});

describe('refusals', () => {
  /** A bad value for each key, as it could appear in a JSON file. */
  const badInFile: Record<keyof Config, unknown> = {
    host: '  ',
    port: 70000,
    dataDir: '',
    databaseUrl: 'mysql://user:secret@db/x',
    logLevel: 'loud',
    issuer: 42,
    accessTokenTtl: 0,
    refreshTokenTtl: 1.5,
    sessionMaxAge: 'forever',
    refreshReuseGrace: 301,
    keyRotationInterval: 59,
    passwordProviders: 'has space',
    bodyLimit: 10,
    trustProxy: 'maybe',
    bundle: 7,
    argon2MemoryKiB: 100,
    argon2Iterations: -1,
    argon2Parallelism: 65,
    passwordConcurrency: true,
    activityFlushInterval: null,
    activityResolution: -5,
    tlsCert: 7,
    tlsKey: ['key.pem'],
    httpRedirectPort: 70000,
  };

  for (const [key, value] of Object.entries(badInFile)) {
    test(`${key}: a bad value in a file names the key and the file`, () => {
      const path = file(`${key}.json`, JSON.stringify({ [key]: value }));
      refuses(() => loadConfig({ file: path, env: {}, cwd: dir }), key, `config file ${path}`);
    });
    test(`${key}: a bad value in a flag names the key and the flag`, () => {
      refuses(() => loadConfig({ env: {}, flags: { [key]: value }, cwd: dir }), key, `flag ${flagName(key)}`);
    });
  }

  /** A bad value for each key that can be bad as an environment string. */
  const badInEnv: Partial<Record<keyof Config, string>> = {
    host: '   ',
    port: 'eighty',
    dataDir: ' ',
    databaseUrl: 'http://x',
    logLevel: 'LOUD',
    accessTokenTtl: '15m',
    refreshTokenTtl: '-5',
    sessionMaxAge: '1e9',
    keyRotationInterval: '10',
    passwordProviders: 'ok,not ok',
    bodyLimit: '0x1000',
    trustProxy: 'sometimes',
    argon2MemoryKiB: '12.5',
    argon2Iterations: '0',
    argon2Parallelism: 'one',
    passwordConcurrency: '1000',
    activityFlushInterval: '3601',
    httpRedirectPort: 'http',
  };
  for (const [key, value] of Object.entries(badInEnv)) {
    test(`${key}: a bad environment value names the key and the variable`, () => {
      refuses(() => loadConfig({ env: { [envName(key)]: value }, cwd: dir }), key, `environment ${envName(key)}`);
    });
  }

  test('a database URL in an error has its password hidden', () => {
    refuses(() => loadConfig({ env: { GATEHOUSE_DATABASE_URL: 'mysql://user:hunter2@db/x' }, cwd: dir }), '***');
    assert.throws(
      () => loadConfig({ env: { GATEHOUSE_DATABASE_URL: 'mysql://user:hunter2@db/x' }, cwd: dir }),
      (error: Error) => !error.message.includes('hunter2'),
    );
  });

  test('no password providers at all', () => {
    refuses(() => loadConfig({ flags: { passwordProviders: [] }, env: {}, cwd: dir }), 'passwordProviders', 'flag --password-providers');
    refuses(
      () => loadConfig({ env: { GATEHOUSE_PASSWORD_PROVIDERS: ' , ' }, cwd: dir }),
      'passwordProviders',
      'environment GATEHOUSE_PASSWORD_PROVIDERS',
    );
  });

  test('an unknown key in a file is refused, naming it and the file', () => {
    const path = file('typo.yaml', 'port: 8000\nprot: 9000\n');
    refuses(() => loadConfig({ file: path, env: {}, cwd: dir }), '"prot"', path);
  });

  test('an unknown flag is refused', () => {
    refuses(() => loadConfig({ env: {}, flags: { prot: 1 } as never, cwd: dir }), '"prot"');
  });

  test('a file that is missing, unparsable or not a mapping is refused, naming the file', () => {
    const missing = join(dir, 'missing.yaml');
    refuses(() => loadConfig({ file: missing, env: {}, cwd: dir }), missing);
    const broken = file('broken.json', '{"port": 80,');
    refuses(() => loadConfig({ file: broken, env: {}, cwd: dir }), broken);
    const badYaml = file('broken.yaml', 'port: [1, 2\n');
    refuses(() => loadConfig({ file: badYaml, env: {}, cwd: dir }), badYaml);
    const list = file('list.yaml', '- port\n- 80\n');
    refuses(() => loadConfig({ file: list, env: {}, cwd: dir }), list, 'mapping');
    const scalar = file('scalar.json', '42');
    refuses(() => loadConfig({ file: scalar, env: {}, cwd: dir }), scalar, 'mapping');
  });
});

describe('TLS settings', () => {
  test('off by default; certificate and key paths are resolved like the bundle', () => {
    const plain = loadConfig({ env: {}, cwd: dir });
    assert.equal(plain.tlsCert, null);
    assert.equal(plain.tlsKey, null);
    assert.equal(plain.httpRedirectPort, null);
    const config = loadConfig({
      env: { GATEHOUSE_TLS_CERT: 'tls/cert.pem', GATEHOUSE_TLS_KEY: '/etc/gatehouse/key.pem', GATEHOUSE_HTTP_REDIRECT_PORT: '8080' },
      cwd: dir,
    });
    assert.equal(config.tlsCert, join(dir, 'tls', 'cert.pem'));
    assert.equal(config.tlsKey, '/etc/gatehouse/key.pem');
    assert.equal(config.httpRedirectPort, 8080);
  });

  test('a certificate without its key, or a key without its certificate, is refused', () => {
    refuses(() => loadConfig({ env: {}, flags: { tlsCert: 'cert.pem' }, cwd: dir }), 'tlsCert', 'flag --tls-cert', 'needs tlsKey');
    refuses(() => loadConfig({ env: { GATEHOUSE_TLS_KEY: 'key.pem' }, cwd: dir }), 'tlsKey', 'environment GATEHOUSE_TLS_KEY', 'needs tlsCert');
  });

  test('the redirect listener needs TLS and a port of its own', () => {
    refuses(() => loadConfig({ env: {}, flags: { httpRedirectPort: 8080 }, cwd: dir }), 'httpRedirectPort', 'flag --http-redirect-port', 'tlsCert');
    const tls = { tlsCert: 'cert.pem', tlsKey: 'key.pem' };
    refuses(() => loadConfig({ env: {}, flags: { ...tls, port: 8443, httpRedirectPort: '8443' }, cwd: dir }), 'httpRedirectPort', '8443');
    assert.equal(loadConfig({ env: {}, flags: { ...tls, port: 0, httpRedirectPort: 0 }, cwd: dir }).httpRedirectPort, 0);
  });
});
