// Configuration: defaults < config file (JSON or YAML) < GATEHOUSE_* environment < flags.
// Validated once at start-up and frozen; a bad value stops start-up with a message naming the key
// and where the value came from.

import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** `sqlite:<path>` or `postgres://…`; default `sqlite:<dataDir>/gatehouse.db`. */
  readonly databaseUrl: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly issuer: string;
  /** Seconds. */
  readonly accessTokenTtl: number;
  readonly refreshTokenTtl: number;
  readonly sessionMaxAge: number;
  /**
   * Seconds during which a just-used refresh token may be presented again without counting as
   * reuse (two threads of one client refreshing at once); 0 = strictly single use.
   */
  readonly refreshReuseGrace: number;
  /** Seconds a signing key signs before a new one takes over. */
  readonly keyRotationInterval: number;
  /** Provider names accepted at /api/auth/provider/{name}/token, checked against Gatehouse's own users. */
  readonly passwordProviders: readonly string[];
  readonly bodyLimit: number;
  readonly trustProxy: boolean;
  /** A policy bundle applied at start-up (`serve --bundle`). */
  readonly bundle: string | null;
  readonly argon2MemoryKiB: number;
  readonly argon2Iterations: number;
  readonly argon2Parallelism: number;
  /** How many password hashes may run at once. */
  readonly passwordConcurrency: number;
  /** Seconds between writes of batched last-use times (API keys). */
  readonly activityFlushInterval: number;
  readonly activityResolution: number;
  /** PEM certificate (chain) to serve HTTPS with; set together with tlsKey. */
  readonly tlsCert: string | null;
  /** PEM private key of tlsCert (RSA or ECDSA, not encrypted). */
  readonly tlsKey: string | null;
  /** A plain-HTTP port that only redirects to HTTPS (with TLS only); null = none. */
  readonly httpRedirectPort: number | null;
}

type Kind =
  | { type: 'string'; nonEmpty?: boolean }
  | { type: 'nullableString' }
  | { type: 'int'; min: number; max: number }
  | { type: 'nullableInt'; min: number; max: number }
  | { type: 'bool' }
  | { type: 'list' }
  | { type: 'enum'; values: readonly string[] };

interface KeySpec {
  readonly kind: Kind;
  readonly help: string;
}

const DAY = 86400;

export const CONFIG_KEYS: Readonly<Record<keyof Config, KeySpec>> = {
  host: { kind: { type: 'string', nonEmpty: true }, help: 'address to listen on' },
  port: { kind: { type: 'int', min: 0, max: 65535 }, help: 'TCP port (0 = any free port)' },
  dataDir: { kind: { type: 'string', nonEmpty: true }, help: 'directory for the embedded database' },
  databaseUrl: { kind: { type: 'string' }, help: 'sqlite:<path> or postgres://… (default sqlite:<dataDir>/gatehouse.db)' },
  logLevel: {
    kind: { type: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    help: 'log level',
  },
  issuer: { kind: { type: 'string', nonEmpty: true }, help: 'JWT `iss` claim' },
  accessTokenTtl: { kind: { type: 'int', min: 1, max: 365 * DAY }, help: 'access token lifetime, seconds' },
  refreshTokenTtl: { kind: { type: 'int', min: 1, max: 10 * 365 * DAY }, help: 'refresh token lifetime, seconds' },
  sessionMaxAge: { kind: { type: 'int', min: 1, max: 10 * 365 * DAY }, help: 'session lifetime, seconds' },
  refreshReuseGrace: {
    kind: { type: 'int', min: 0, max: 300 },
    help: 'seconds a just-used refresh token may be presented again (concurrent refreshes) before it counts as reuse (queue-server face; TPP refresh tokens are strictly single use)',
  },
  keyRotationInterval: { kind: { type: 'int', min: 60, max: 10 * 365 * DAY }, help: 'signing key rotation, seconds' },
  passwordProviders: { kind: { type: 'list' }, help: 'login provider names (comma-separated)' },
  bodyLimit: { kind: { type: 'int', min: 1024, max: 64 * 1024 * 1024 }, help: 'largest request body, bytes' },
  trustProxy: { kind: { type: 'bool' }, help: 'trust X-Forwarded-* headers from a proxy' },
  bundle: { kind: { type: 'nullableString' }, help: 'policy bundle applied at start-up' },
  argon2MemoryKiB: { kind: { type: 'int', min: 1024, max: 4 * 1024 * 1024 }, help: 'argon2id memory, KiB' },
  argon2Iterations: { kind: { type: 'int', min: 1, max: 100 }, help: 'argon2id iterations' },
  argon2Parallelism: { kind: { type: 'int', min: 1, max: 64 }, help: 'argon2id lanes' },
  passwordConcurrency: { kind: { type: 'int', min: 1, max: 256 }, help: 'password hashes running at once' },
  activityFlushInterval: { kind: { type: 'int', min: 1, max: 3600 }, help: 'seconds between last-use writes' },
  activityResolution: {
    kind: { type: 'int', min: 0, max: 86400 },
    help: 'seconds a stored API-key last-use time moves by at least (0: every flush)',
  },
  tlsCert: { kind: { type: 'nullableString' }, help: 'serve HTTPS with this PEM certificate chain (with --tls-key; reloaded on SIGHUP)' },
  tlsKey: { kind: { type: 'nullableString' }, help: 'PEM private key (RSA or ECDSA) of the TLS certificate' },
  httpRedirectPort: {
    kind: { type: 'nullableInt', min: 0, max: 65535 },
    help: 'also listen for plain HTTP on this port, only to redirect to HTTPS (needs TLS)',
  },
};

export const DEFAULTS: Omit<Config, 'databaseUrl'> & { databaseUrl: string } = {
  host: '127.0.0.1',
  port: 8000,
  dataDir: './data',
  databaseUrl: '',
  logLevel: 'info',
  issuer: 'gatehouse',
  accessTokenTtl: 900,
  refreshTokenTtl: 7 * DAY,
  sessionMaxAge: 365 * DAY,
  refreshReuseGrace: 10,
  keyRotationInterval: 30 * DAY,
  passwordProviders: ['local'],
  bodyLimit: 1024 * 1024,
  trustProxy: false,
  bundle: null,
  argon2MemoryKiB: 19456,
  argon2Iterations: 2,
  argon2Parallelism: 1,
  passwordConcurrency: 2,
  activityFlushInterval: 5,
  activityResolution: 60,
  tlsCert: null,
  tlsKey: null,
  httpRedirectPort: null,
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** Path of a JSON or YAML config file; also taken from GATEHOUSE_CONFIG. */
  readonly file?: string | null;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Values from command-line flags, already keyed by config key. */
  readonly flags?: Readonly<Partial<Record<keyof Config, unknown>>>;
  /** Base directory for relative paths (default: the working directory). */
  readonly cwd?: string;
}

/** The words of a camelCase key: `argon2MemoryKiB` -> argon2, memory, kib. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])(?=[a-z])/g, '$1 $2')
    .split(' ')
    .map((w) => w.toLowerCase());
}

/** The environment variable of a config key: `dataDir` -> GATEHOUSE_DATA_DIR. */
export function envName(key: string): string {
  return `GATEHOUSE_${words(key).join('_').toUpperCase()}`;
}

/** The command-line flag of a config key: `dataDir` -> --data-dir. */
export function flagName(key: string): string {
  return `--${words(key).join('-')}`;
}

/** A database URL with any password replaced, safe to show. */
function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const raw: Record<string, { value: unknown; from: string }> = {};
  for (const [key, value] of Object.entries(DEFAULTS)) raw[key] = { value, from: 'default' };

  const file = sources.file ?? env.GATEHOUSE_CONFIG ?? null;
  if (file) {
    const path = isAbsolute(file) ? file : resolve(cwd, file);
    let parsed: unknown;
    try {
      const text = readFileSync(path, 'utf8');
      parsed = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new ConfigError(`config file ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new ConfigError(`config file ${path}: expected a mapping of keys to values`);
      }
      for (const [key, value] of Object.entries(parsed)) {
        if (!(key in CONFIG_KEYS)) {
          throw new ConfigError(`config file ${path}: unknown key "${key}" (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
        }
        raw[key] = { value, from: `config file ${path}` };
      }
    }
  }
  for (const key of Object.keys(CONFIG_KEYS)) {
    const name = envName(key);
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = { value, from: `environment ${name}` };
  }
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    if (!(key in CONFIG_KEYS)) throw new ConfigError(`unknown setting "${key}"`);
    raw[key] = { value, from: `flag ${flagName(key)}` };
  }

  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    const entry = raw[key];
    if (!entry) continue;
    out[key] = coerce(key, spec.kind, entry.value, entry.from);
  }
  const dataDir = resolve(cwd, out.dataDir as string);
  out.dataDir = dataDir;
  if (!out.databaseUrl) out.databaseUrl = `sqlite:${join(dataDir, 'gatehouse.db')}`;
  const url = out.databaseUrl as string;
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(url)) {
    throw new ConfigError(
      `databaseUrl must start with sqlite: or postgres:// (got "${redactUrl(url)}" from ${raw.databaseUrl?.from})`,
    );
  }
  if (out.bundle) out.bundle = resolve(cwd, out.bundle as string);
  if (out.tlsCert) out.tlsCert = resolve(cwd, out.tlsCert as string);
  if (out.tlsKey) out.tlsKey = resolve(cwd, out.tlsKey as string);
  if ((out.tlsCert === null) !== (out.tlsKey === null)) {
    const [given, missing] = out.tlsCert === null ? ['tlsKey', 'tlsCert'] : ['tlsCert', 'tlsKey'];
    throw new ConfigError(`${given} (from ${raw[given]?.from}) needs ${missing} too: HTTPS takes a certificate and its key`);
  }
  if (out.httpRedirectPort !== null && out.tlsCert === null) {
    throw new ConfigError(
      `httpRedirectPort (from ${raw.httpRedirectPort?.from}) redirects plain HTTP to HTTPS: it needs tlsCert and tlsKey`,
    );
  }
  if (out.httpRedirectPort !== null && out.httpRedirectPort !== 0 && out.httpRedirectPort === out.port) {
    throw new ConfigError(`httpRedirectPort and port are both ${out.port as number}: the redirect needs a port of its own`);
  }
  const providers = out.passwordProviders as string[];
  const providersFrom = raw.passwordProviders?.from;
  if (providers.length === 0) {
    throw new ConfigError(`passwordProviders must name at least one provider (got none from ${providersFrom})`);
  }
  for (const name of providers) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      throw new ConfigError(`passwordProviders: "${name}" is not a valid provider name (from ${providersFrom})`);
    }
  }
  return Object.freeze(out) as unknown as Config;
}

function coerce(key: string, kind: Kind, value: unknown, from: string): unknown {
  const fail = (expected: string): never => {
    throw new ConfigError(`${key} must be ${expected} (got ${JSON.stringify(value)} from ${from})`);
  };
  switch (kind.type) {
    case 'string':
      if (typeof value !== 'string') return fail('a string');
      if (kind.nonEmpty && value.trim() === '') return fail('a non-empty string');
      return value;
    case 'nullableString':
      if (value === null) return null;
      if (typeof value !== 'string') return fail('a string');
      return value === '' ? null : value;
    case 'int':
    case 'nullableInt': {
      if (kind.type === 'nullableInt' && (value === null || value === '')) return null;
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < kind.min || n > kind.max) {
        return fail(`an integer from ${kind.min} to ${kind.max}`);
      }
      return n;
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|1|yes|on)$/i.test(value)) return true;
      if (typeof value === 'string' && /^(false|0|no|off)$/i.test(value)) return false;
      return fail('true or false');
    case 'list': {
      const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) return fail('a list of strings');
      return Object.freeze([...list]);
    }
    case 'enum':
      if (typeof value !== 'string' || !kind.values.includes(value)) return fail(`one of ${kind.values.join(', ')}`);
      return value;
  }
}
