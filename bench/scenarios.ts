// What `npm run bench` measures: targets (servers started one after another) and the scenarios
// run against each. To add a Gatehouse backend, add one entry to BACKENDS (lib/gatehouse.ts);
// to add a face's hot path, add one entry to GATEHOUSE_PATHS below — every backend runs it.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { BACKENDS, http, startGatehouse, writeRefreshPool, type FixtureMaker, type GatehouseBackend } from './lib/gatehouse.ts';
import { ITEM, type LoadRequest } from './lib/load.ts';
import { startServer } from './lib/proc.ts';
import { BENCH_DIR, ROOT } from './lib/util.ts';

/** Refresh tokens to pre-generate per second a server runs: more than the fastest refresh can use. */
export const REFRESH_RATE_BOUND = 12_000;

export type Kind = 'ceiling' | 'peer' | 'gatehouse';

/** The credentials and values a started target hands to its scenarios. */
export type Fixtures = Record<string, string>;

export interface Running {
  readonly pid: number;
  readonly url: string;
  readonly fixtures: Fixtures;
  /** Fixtures that could not be made, with the reason (their scenarios are skipped). */
  readonly missing: Record<string, string>;
  stop(): Promise<unknown>;
}

export interface StartContext {
  /** A fresh directory for this start. */
  readonly dir: string;
  /** JSON body of GET /api/auth/scopes for bob (the floor returns the same). */
  readonly scopesBody: string;
  /** How many single-use refresh tokens to pre-generate for the refresh scenarios. */
  readonly refreshPoolSize: number;
  readonly nodeFlags?: readonly string[];
}

export interface Target {
  readonly id: string;
  readonly label: string;
  readonly kind: Kind;
  /** Null when the target can run here, else why not. */
  check(): Promise<string | null>;
  start(ctx: StartContext): Promise<Running>;
  /** Processes besides the server that belong to the system under test (e.g. PostgreSQL). */
  extraPids?(): readonly number[];
}

export interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly target: string;
  readonly kind: Kind;
  /** Which hot path this is (targets of the issue are stated per path). */
  readonly path: string;
  readonly introspection: boolean;
  /** Scenario id of the ceiling this path is compared with, and what that ceiling is. */
  readonly ceiling?: string;
  /** Scenario ids of the peers doing the same job. */
  readonly peers?: readonly string[];
  /** Fixture names the request needs. */
  readonly needs: readonly string[];
  request(fx: Fixtures): LoadRequest;
}

// ---- ceilings and peers ------------------------------------------------------------------------

const node = (script: string, ...args: string[]) => [process.execPath, join(BENCH_DIR, 'servers', script), ...args];

function announced(
  argv: (ctx: StartContext, fixtures: Fixtures) => string[],
  options: { env?: (ctx: StartContext) => Record<string, string>; refreshPool?: boolean } = {},
) {
  return async (ctx: StartContext): Promise<Running> => {
    const fixtures: Fixtures = {};
    if (options.refreshPool) {
      fixtures.refreshPool = writeRefreshPool(ctx.dir, ctx.refreshPoolSize).file;
      fixtures.refreshPoolSize = String(ctx.refreshPoolSize);
    }
    const server = await startServer({ argv: argv(ctx, fixtures), env: options.env?.(ctx), cwd: ROOT, ready: 'announce', timeoutMs: 120_000 });
    return { ...server, fixtures: { ...fixtures, ...server.fixtures }, missing: {} };
  };
}

const PEER_PACKAGES: Record<string, string[]> = {
  'peer-better-auth': ['better-auth', '@better-auth/api-key'],
  'peer-oidc-provider': ['oidc-provider'],
};

/** Null when bench/node_modules has the peer's packages (npm run bench installs them). */
export function peerInstalled(targetId: string): string | null {
  for (const name of PEER_PACKAGES[targetId] ?? []) {
    if (!existsSync(join(BENCH_DIR, 'node_modules', name, 'package.json'))) {
      return `${name} is not installed in bench/node_modules (run: npm ci --prefix bench)`;
    }
  }
  return null;
}

const ceiling = (kind: string, label: string): Target => ({
  id: `ceiling-${kind}`,
  label,
  kind: 'ceiling',
  check: async () => null,
  start: announced((ctx, fx) => node('ceiling.ts', kind, ctx.dir, ...(fx.refreshPool ? [fx.refreshPool] : [])), {
    env: (ctx) => ({ BENCH_SCOPES_BODY: ctx.scopesBody }),
    refreshPool: kind === 'refresh',
  }),
});

const peer = (id: string, label: string, argv: (ctx: StartContext) => string[]): Target => ({
  id,
  label,
  kind: 'peer',
  check: async () => peerInstalled(id),
  start: announced(argv),
});

const gatehouseTarget = (backend: GatehouseBackend): Target => ({
  id: `gatehouse-${backend.id}`,
  label: `Gatehouse (${backend.label})`,
  kind: 'gatehouse',
  check: () => backend.check(),
  extraPids: backend.databasePids ? () => backend.databasePids?.() ?? [] : undefined,
  start: (ctx) =>
    startGatehouse(backend, {
      refreshPool: ctx.refreshPoolSize,
      nodeFlags: ctx.nodeFlags,
      fixtures: GATEHOUSE_PATHS.flatMap((p) => p.fixtures ?? []),
    }),
});

/** In the order they run in each round; Gatehouse first, so the floor can return its /scopes body. */
export const TARGETS: readonly Target[] = [
  ...BACKENDS.map(gatehouseTarget),
  ceiling('floor', 'bare Fastify route, same JSON'),
  ceiling('jose', 'Fastify + jose EdDSA verify'),
  ceiling('sqlite', 'Fastify + sha256 + indexed SELECT'),
  ceiling('argon2', 'Fastify + one argon2id hash'),
  ceiling('refresh', 'Fastify + SELECT/UPDATE/INSERT + EdDSA sign'),
  peer('peer-better-auth', 'better-auth API-key plugin', (ctx) => node('better-auth.ts', ctx.dir)),
  peer('peer-oidc-provider', 'oidc-provider', () => node('oidc-provider.ts')),
];

const get = (path: string, headers: Record<string, string> = {}): LoadRequest => ({ method: 'GET', path, headers });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const JSON_TYPE = { 'Content-Type': 'application/json' };

const CEILING_AND_PEER_SCENARIOS: readonly Scenario[] = [
  {
    id: 'ceiling/floor',
    label: 'ceiling: bare Fastify, same JSON as /scopes',
    target: 'ceiling-floor',
    kind: 'ceiling',
    path: 'floor',
    introspection: false,
    needs: [],
    request: () => get('/api/auth/scopes'),
  },
  {
    id: 'ceiling/jose',
    label: 'ceiling: Fastify + jose EdDSA verify',
    target: 'ceiling-jose',
    kind: 'ceiling',
    path: 'jwt',
    introspection: false,
    needs: ['token'],
    request: (fx) => get('/api/auth/scopes', bearer(fx.token as string)),
  },
  {
    id: 'ceiling/sqlite',
    label: 'ceiling: Fastify + sha256 + SELECT',
    target: 'ceiling-sqlite',
    kind: 'ceiling',
    path: 'apikey',
    introspection: false,
    needs: ['apiKey'],
    request: (fx) => get('/api/auth/scopes', { Authorization: `Apikey ${fx.apiKey}` }),
  },
  {
    id: 'ceiling/argon2',
    label: 'ceiling: Fastify + argon2id hash',
    target: 'ceiling-argon2',
    kind: 'ceiling',
    path: 'login',
    introspection: false,
    needs: [],
    request: () => ({
      method: 'POST',
      path: '/api/auth/provider/local/token',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'username=bob&password=bob_password',
    }),
  },
  {
    id: 'ceiling/refresh',
    label: 'ceiling: SELECT+UPDATE+INSERT+sign',
    target: 'ceiling-refresh',
    kind: 'ceiling',
    path: 'refresh',
    introspection: false,
    needs: ['refreshPool'],
    request: (fx) => refreshRequest(fx),
  },
  {
    id: 'peer/better-auth-apikey',
    label: 'peer: better-auth API-key verify',
    target: 'peer-better-auth',
    kind: 'peer',
    path: 'apikey',
    introspection: true,
    needs: ['apiKey'],
    request: (fx) => get('/verify', { 'x-api-key': fx.apiKey as string }),
  },
  {
    id: 'peer/oidc-introspection',
    label: 'peer: oidc-provider introspection',
    target: 'peer-oidc-provider',
    kind: 'peer',
    path: 'jwt',
    introspection: true,
    needs: ['token', 'authorization'],
    request: (fx) => ({
      method: 'POST',
      path: '/token/introspection',
      headers: { Authorization: fx.authorization as string, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `token=${fx.token}`,
    }),
  },
];

function refreshRequest(fx: Fixtures): LoadRequest {
  return {
    method: 'POST',
    path: '/api/auth/session/refresh',
    headers: JSON_TYPE,
    body: `{"refresh_token":"${ITEM}"}`,
    pool: { file: fx.refreshPool as string, size: Number(fx.refreshPoolSize), singleUse: true },
  };
}

// ---- Gatehouse hot paths -----------------------------------------------------------------------

export interface GatehousePath {
  readonly id: string;
  readonly label: string;
  readonly introspection: boolean;
  readonly ceiling?: string;
  readonly peers?: readonly string[];
  readonly needs: readonly string[];
  /** Face-specific credentials to make once the server runs (a failure skips the path, with why). */
  readonly fixtures?: readonly FixtureMaker[];
  request(fx: Fixtures): LoadRequest;
}

const venafiToken: FixtureMaker = {
  name: 'venafiToken',
  async make(url) {
    const r = await http(`${url}/vedauth/authorize/oauth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'vcert-cli', username: 'tppadmin', password: 'tppadmin_password', scope: 'admin:viewlogs;certificate:manage' }),
    });
    if (r.status === 404) throw new Error('the Venafi face is not mounted (POST /vedauth/authorize/oauth → 404)');
    if (r.status !== 200) throw new Error(`Venafi token request failed: ${r.status} ${r.text.slice(0, 200)}`);
    return String(r.json().access_token);
  },
};

/** In the order they run against one server: reads first, then writes, then logins. */
export const GATEHOUSE_PATHS: readonly GatehousePath[] = [
  {
    id: 'scopes-jwt',
    label: 'GET /api/auth/scopes (bearer JWT)',
    introspection: true,
    ceiling: 'ceiling/jose',
    peers: ['peer/oidc-introspection'],
    needs: ['jwt'],
    request: (fx) => get('/api/auth/scopes', bearer(fx.jwt as string)),
  },
  {
    id: 'scopes-apikey',
    label: 'GET /api/auth/scopes (API key)',
    introspection: true,
    ceiling: 'ceiling/sqlite',
    peers: ['peer/better-auth-apikey'],
    needs: ['apiKey'],
    request: (fx) => get('/api/auth/scopes', { Authorization: `Apikey ${fx.apiKey}` }),
  },
  {
    id: 'whoami',
    label: 'GET /api/auth/whoami (bearer JWT)',
    introspection: true,
    ceiling: 'ceiling/jose',
    needs: ['jwt'],
    request: (fx) => get('/api/auth/whoami', bearer(fx.jwt as string)),
  },
  {
    id: 'venafi-verify',
    label: 'Venafi GET /vedauth/authorize/verify (opaque token)',
    introspection: true,
    ceiling: 'ceiling/sqlite',
    peers: ['peer/oidc-introspection'],
    needs: ['venafiToken'],
    fixtures: [venafiToken],
    request: (fx) => ({ method: 'GET', path: '/vedauth/authorize/verify', headers: { ...bearer(fx.venafiToken as string), ...JSON_TYPE } }),
  },
  {
    id: 'venafi-getscopes',
    label: 'Venafi POST /vedsdk/oauth/getscopes',
    introspection: false,
    ceiling: 'ceiling/sqlite',
    needs: ['venafiToken'],
    request: (fx) => ({ method: 'POST', path: '/vedsdk/oauth/getscopes', headers: { ...bearer(fx.venafiToken as string), ...JSON_TYPE }, body: '{}' }),
  },
  {
    id: 'refresh',
    label: 'POST /api/auth/session/refresh (rotation)',
    introspection: false,
    ceiling: 'ceiling/refresh',
    needs: ['refreshPool'],
    request: (fx) => refreshRequest(fx),
  },
  {
    id: 'apikey-create',
    label: 'POST /api/auth/apikey (create)',
    introspection: false,
    ceiling: 'ceiling/refresh',
    needs: ['keymakerJwt'],
    request: (fx) => ({
      method: 'POST',
      path: '/api/auth/apikey',
      headers: { ...bearer(fx.keymakerJwt as string), ...JSON_TYPE },
      body: '{"note":"bench","expires_in":86400}',
    }),
  },
  {
    id: 'login',
    label: 'POST /api/auth/provider/local/token (login)',
    introspection: false,
    ceiling: 'ceiling/argon2',
    needs: [],
    request: () => ({
      method: 'POST',
      path: '/api/auth/provider/local/token',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=alice_password',
    }),
  },
];

const GATEHOUSE_SCENARIOS: readonly Scenario[] = BACKENDS.flatMap((backend) =>
  GATEHOUSE_PATHS.map((p) => ({
    id: `gatehouse-${backend.id}/${p.id}`,
    label: `Gatehouse ${backend.label}: ${p.label}`,
    target: `gatehouse-${backend.id}`,
    kind: 'gatehouse' as const,
    path: p.id,
    introspection: p.introspection,
    ceiling: p.ceiling,
    peers: p.peers,
    needs: p.needs,
    request: (fx: Fixtures) => p.request(fx),
  })),
);

export const SCENARIOS: readonly Scenario[] = [...CEILING_AND_PEER_SCENARIOS, ...GATEHOUSE_SCENARIOS];
