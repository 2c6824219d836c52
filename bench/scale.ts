// `npm run bench -- --scale`: how Gatehouse holds up as data grows. For each size (default 1k,
// 100k and 1M principals, each with a role, a group, an identity, an API key, a session and a
// refresh token; plus one user with 10k sessions and one with a single session) it measures
// start-up time, RSS, database size, and introspection throughput and p99 with API keys and
// JWTs of principals spread over the whole population; then times `gatehouse apply` of a
// 100k-user bundle whose passwords are pre-computed argon2id PHC strings (hashing 100k passwords
// would measure argon2, not apply).

import { join } from 'node:path';
import { cleanupAll, onCleanup } from './lib/cleanup.ts';
import { gatehouseCli } from './lib/gatehouse.ts';
import { ITEM, type Generator, type LoadRequest } from './lib/load.ts';
import { machineFacts, rssBytes } from './lib/machine.ts';
import { measure, type WindowResult } from './lib/measure.ts';
import { sizeLabel, type Options } from './lib/options.ts';
import { startServer } from './lib/proc.ts';
import { markdownTable, textTable, type TargetCheck, targetCells } from './lib/report.ts';
import { header, timestamp, writeResults } from './lib/results.ts';
import { dbSize, generateScaleData, HEAVY_SESSIONS, writeBundle, type ScaleData } from './lib/scale-data.ts';
import { fmtMiB, fmtMs, fmtRate, GATEHOUSE_BIN, median, removeDir, ROOT, tempDir } from './lib/util.ts';
import { versions } from './lib/versions.ts';

const log = (message: string) => process.stderr.write(`${message}\n`);

interface ScaleScenario {
  readonly id: string;
  readonly label: string;
  request(data: ScaleData): LoadRequest;
}

const apikeyHeader = (key: string) => ({ Authorization: `Apikey ${key}` });

const SCALE_SCENARIOS: readonly ScaleScenario[] = [
  {
    id: 'apikey-spread',
    label: 'GET /api/auth/scopes, API keys of principals across the population',
    request: (d) => ({ method: 'GET', path: '/api/auth/scopes', headers: apikeyHeader(ITEM), pool: { ...d.apiKeyPool, singleUse: false } }),
  },
  {
    id: 'jwt-spread',
    label: 'GET /api/auth/scopes, access tokens of principals across the population',
    request: (d) => ({ method: 'GET', path: '/api/auth/scopes', headers: { Authorization: `Bearer ${ITEM}` }, pool: { ...d.jwtPool, singleUse: false } }),
  },
  {
    id: 'apikey-light-user',
    label: 'GET /api/auth/scopes, API key of a user with 1 session',
    request: (d) => ({ method: 'GET', path: '/api/auth/scopes', headers: apikeyHeader(d.lightKey) }),
  },
  {
    id: 'apikey-heavy-user',
    label: `GET /api/auth/scopes, API key of a user with ${HEAVY_SESSIONS / 1000}k sessions`,
    request: (d) => ({ method: 'GET', path: '/api/auth/scopes', headers: apikeyHeader(d.heavyKey) }),
  },
];

interface SizeResult {
  readonly principals: number;
  readonly rows: number;
  readonly generateMs: number;
  readonly dbBytes: number;
  /** Median over every start (one per scenario and round). */
  readonly startMs: number;
  readonly idleRssBytes: number;
  readonly scenarios: Record<
    string,
    {
      rps: number;
      capacityRps: number;
      cpuUsPerRequest: number;
      p50Ms: number;
      p99Ms: number;
      errors: number;
      rssPeakBytes: number;
      /** Medians of the windows in which the server first saw the pool's credentials (after each start). */
      firstSight: { rps: number; p99Ms: number } | null;
      windows: WindowResult[];
    }
  >;
  readonly error?: string;
}

async function measureSize(opts: Options, generator: Generator, principals: number): Promise<SizeResult> {
  const repeatBudget = { seconds: 0.25 * opts.rounds * SCALE_SCENARIOS.length * opts.durationS };
  const dir = tempDir(`scale-${sizeLabel(principals)}`);
  try {
    log(`[${sizeLabel(principals)}] generating ${principals.toLocaleString('en')} principals …`);
    const data = await generateScaleData(dir, principals);
    log(`[${sizeLabel(principals)}] ${data.rows.toLocaleString('en')} rows in ${(data.generateMs / 1000).toFixed(1)} s, database ${fmtMiB(data.dbBytes)} MiB`);
    const starts: number[] = [];
    const idle: number[] = [];
    const windows = new Map<string, WindowResult[]>(SCALE_SCENARIOS.map((s) => [s.id, []]));
    // Each scenario on a server of its own: a scenario's after-effects (the batched last-use
    // writes of thousands of API keys, say) must not land in the next scenario's window.
    for (let round = 1; round <= opts.rounds; round++) {
      for (const s of SCALE_SCENARIOS) {
        // GATEHOUSE_BENCH_SCALE_PROFILE_DIR=DIR: every server writes a CPU profile there
        const profileDir = process.env.GATEHOUSE_BENCH_SCALE_PROFILE_DIR;
        const profile = profileDir
          ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${sizeLabel(principals)}-${s.id}-${round}.cpuprofile`]
          : [];
        const server = await startServer({
          argv: [process.execPath, ...profile, GATEHOUSE_BIN, 'serve', '--data-dir', dir, '--port', '0', '--log-level', 'warn'],
          cwd: ROOT,
          ready: 'socket',
          timeoutMs: 300_000,
        });
        const forget = onCleanup(() => server.stop());
        try {
          starts.push(server.startMs);
          idle.push(rssBytes(server.pid));
          const w = await measure(
            { generator, connections: opts.connections, warmupS: opts.warmupS, durationS: opts.durationS, noiseLimit: opts.noiseLimit, slowLimit: opts.slowLimit, round, repeatBudget },
            server.url,
            server.pid,
            s.request(data),
            (note) => log(`  ${s.id}: ${note}`),
          );
          windows.get(s.id)?.push(w);
          const errs = w.non2xx + w.socketErrors;
          const first = w.firstSight ? `  (first sight: ${fmtRate(w.firstSight.rps)} req/s, p99 ${fmtMs(w.firstSight.p99Ms)} ms)` : '';
          log(
            `[${sizeLabel(principals)}] round ${round}/${opts.rounds} ${s.id.padEnd(18)} started in ${server.startMs.toFixed(0)} ms  ` +
              `${fmtRate(w.rps).padStart(7)} req/s  ${w.cpuUsPerRequest.toFixed(0)} µs CPU/req  p99 ${fmtMs(w.p99Ms)} ms  ` +
              `RSS ${fmtMiB(w.rssPeakBytes)} MiB${errs ? `  ${errs} errors` : ''}  other CPU ${w.foreignCores.toFixed(2)}  host ${w.hostSlowdown.toFixed(2)}×${first}`,
          );
        } finally {
          forget();
          await server.stop();
        }
      }
    }
    const scenarios: SizeResult['scenarios'] = {};
    for (const [id, w] of windows) {
      const sights = w.flatMap((x) => (x.firstSight ? [x.firstSight] : []));
      scenarios[id] = {
        rps: median(w.map((x) => x.rps)),
        capacityRps: median(w.map((x) => x.capacityRps)),
        cpuUsPerRequest: median(w.map((x) => x.cpuUsPerRequest)),
        p50Ms: median(w.map((x) => x.p50Ms)),
        p99Ms: median(w.map((x) => x.p99Ms)),
        errors: w.reduce((sum, x) => sum + x.non2xx + x.socketErrors, 0),
        rssPeakBytes: Math.max(0, ...w.map((x) => x.rssPeakBytes)),
        firstSight: sights.length ? { rps: median(sights.map((x) => x.rps)), p99Ms: median(sights.map((x) => x.p99Ms)) } : null,
        windows: w,
      };
    }
    return {
      principals,
      rows: data.rows,
      generateMs: data.generateMs,
      dbBytes: dbSize(join(dir, 'gatehouse.db')),
      startMs: median(starts),
      idleRssBytes: median(idle),
      scenarios,
    };
  } finally {
    removeDir(dir);
  }
}

interface ApplyResult {
  readonly users: number;
  readonly firstMs: number | null;
  readonly againMs: number | null;
  readonly dbBytes: number;
  readonly error: string | null;
}

async function measureApply(users: number): Promise<ApplyResult> {
  const dir = tempDir('apply');
  try {
    const bundle = join(dir, 'bundle.json');
    await writeBundle(bundle, users);
    gatehouseCli(['migrate', '--data-dir', dir]);
    log(`[apply] gatehouse apply of ${users.toLocaleString('en')} users (pre-hashed passwords) …`);
    const first = gatehouseCli(['apply', bundle, '--data-dir', dir, '--json'], 900_000);
    log(`[apply] first apply ${(first.ms / 1000).toFixed(1)} s; applying again (nothing changes) …`);
    const again = gatehouseCli(['apply', bundle, '--data-dir', dir, '--json'], 900_000);
    log(`[apply] second apply ${(again.ms / 1000).toFixed(1)} s`);
    return { users, firstMs: first.ms, againMs: again.ms, dbBytes: dbSize(join(dir, 'gatehouse.db')), error: null };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] as string;
    log(`[apply] failed: ${message}`);
    return { users, firstMs: null, againMs: null, dbBytes: 0, error: message };
  } finally {
    removeDir(dir);
  }
}

type Figures = SizeResult['scenarios'][string];

/** a against b by CPU per request (met/not met) and by measured req/s. */
function compare(target: string, a: Figures, b: Figures, min: number): TargetCheck {
  const value = a.capacityRps / b.capacityRps;
  const raw = a.rps / b.rps;
  return {
    target,
    measured:
      `${(value * 100).toFixed(0)}% by CPU per request (${a.cpuUsPerRequest.toFixed(0)} vs ${b.cpuUsPerRequest.toFixed(0)} µs); ` +
      `${(raw * 100).toFixed(0)}% by req/s (${fmtRate(a.rps)} vs ${fmtRate(b.rps)})`,
    met: value >= min,
  };
}

function scaleTargets(results: readonly SizeResult[]): TargetCheck[] {
  const ok = results.filter((r) => !r.error);
  const smallest = ok.find((r) => r.principals <= 1_000) ?? ok[0];
  const largest = [...ok].reverse().find((r) => r.principals >= 1_000_000);
  const checks: TargetCheck[] = [];
  for (const id of ['apikey-spread', 'jwt-spread']) {
    const target = `at 1M principals, introspection (${id}) ≥ 90% of the 1k figure`;
    const a = largest?.scenarios[id];
    const b = smallest?.scenarios[id];
    if (!largest || !smallest || !a || !b || b.rps <= 0 || !(b.capacityRps > 0)) {
      checks.push({ target, measured: 'not measured (no 1M run)', met: null });
      continue;
    }
    checks.push(compare(target, a, b, 0.9));
  }
  for (const r of ok) {
    const heavy = r.scenarios['apikey-heavy-user'];
    const light = r.scenarios['apikey-light-user'];
    if (!heavy || !light || !(light.capacityRps > 0)) continue;
    checks.push(compare(`${sizeLabel(r.principals)}: user with ${HEAVY_SESSIONS / 1000}k sessions ≥ 90% of a user with one (API key)`, heavy, light, 0.9));
  }
  const rssCheck = (r: SizeResult | undefined, limitMiB: number, label: string) => {
    if (!r) return checks.push({ target: `RSS under load ≤ ${limitMiB} MiB at ${label}`, measured: 'not measured', met: null });
    const peak = Math.max(...Object.values(r.scenarios).map((s) => s.rssPeakBytes));
    return checks.push({ target: `RSS under load ≤ ${limitMiB} MiB at ${label}`, measured: `${fmtMiB(peak)} MiB`, met: peak <= limitMiB * 1048576 });
  };
  rssCheck(smallest?.principals === 1_000 ? smallest : undefined, 200, '1k principals');
  rssCheck(largest, 300, '1M principals');
  for (const r of ok) {
    for (const [id, s] of Object.entries(r.scenarios)) {
      if (id.endsWith('-spread')) {
        checks.push({ target: `${sizeLabel(r.principals)}: p99 ≤ 10 ms (${id})`, measured: `p99 ${fmtMs(s.p99Ms)} ms`, met: s.p99Ms <= 10 });
      }
    }
  }
  return checks;
}

/** What the first warm-up window after a start (every pool credential seen for the first time) gave. */
function firstSightLine(warmupS: number, results: readonly SizeResult[]): string {
  const parts = results.flatMap((r) =>
    Object.entries(r.scenarios).flatMap(([id, x]) =>
      x.firstSight ? [`${sizeLabel(r.principals)} ${id} ${fmtRate(x.firstSight.rps)} req/s, p99 ${fmtMs(x.firstSight.p99Ms)} ms`] : [],
    ),
  );
  if (parts.length === 0) return 'first sight: not measured (no warm-up)';
  return `first sight (the first ${warmupS} s after a start, every credential of the pool new to the server; medians): ${parts.join('; ')}`;
}

export async function runScale(opts: Options, generator: Generator): Promise<number> {
  const machine = machineFacts();
  header(opts, generator, machine);
  log(`sizes: ${opts.sizes.map(sizeLabel).join(', ')}${opts.applyUsers ? `; then apply of a ${sizeLabel(opts.applyUsers)}-user bundle` : ''}`);
  const versionsAtStart = versions();
  const results: SizeResult[] = [];
  for (const n of opts.sizes) {
    try {
      results.push(await measureSize(opts, generator, n));
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] as string;
      log(`[${sizeLabel(n)}] failed: ${message}`);
      results.push({ principals: n, rows: 0, generateMs: 0, dbBytes: 0, startMs: 0, idleRssBytes: 0, scenarios: {}, error: message });
      await cleanupAll();
    }
  }
  const apply = opts.applyUsers > 0 ? await measureApply(opts.applyUsers) : null;

  const columns = [
    'principals',
    'rows',
    'generate s',
    'DB MiB',
    'start ms',
    'idle RSS',
    ...SCALE_SCENARIOS.map((s) => `${s.id}: req/s · CPU µs/req · p99 ms`),
    'RSS peak',
  ];
  const cells = results.map((r) =>
    r.error
      ? [sizeLabel(r.principals), 'failed', r.error]
      : [
          sizeLabel(r.principals),
          r.rows.toLocaleString('en'),
          (r.generateMs / 1000).toFixed(1),
          fmtMiB(r.dbBytes),
          r.startMs.toFixed(0),
          fmtMiB(r.idleRssBytes),
          ...SCALE_SCENARIOS.map((s) => {
            const x = r.scenarios[s.id];
            return x ? `${fmtRate(x.rps)} · ${x.cpuUsPerRequest.toFixed(0)} · ${fmtMs(x.p99Ms)}${x.errors ? ` (${x.errors} errors)` : ''}` : '—';
          }),
          fmtMiB(Math.max(0, ...Object.values(r.scenarios).map((s) => s.rssPeakBytes))),
        ],
  );
  const applyLine = !apply
    ? 'apply: not measured (--apply 0)'
    : apply.error
    ? `apply of ${sizeLabel(apply.users)} users: failed (${apply.error})`
    : `apply of ${sizeLabel(apply.users)} users (pre-hashed argon2id passwords): ${((apply.firstMs ?? 0) / 1000).toFixed(1)} s into an empty database, ` +
      `${((apply.againMs ?? 0) / 1000).toFixed(1)} s again (no change); database ${fmtMiB(apply.dbBytes)} MiB`;
  const firstLine = firstSightLine(opts.warmupS, results);
  const checks = scaleTargets(results);
  process.stdout.write(`\n${textTable(columns, cells)}\n\n${applyLine}\n\n${firstLine}\n\nTargets:\n${textTable(['target', 'status', 'measured'], targetCells(checks))}\n`);
  const date = new Date();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  const markdown = [
    `Command: \`${command}\` · ${date.toISOString()} · generator ${generator}`,
    '',
    markdownTable(columns, cells),
    '',
    applyLine,
    '',
    firstLine,
    '',
    markdownTable(['target', 'status', 'measured'], targetCells(checks)),
    '',
  ].join('\n');
  const file = writeResults(`scale-${timestamp(date)}`, { date: date.toISOString(), command, generator, machine, versions: versionsAtStart, sizes: results, apply, targets: checks }, markdown);
  log(`\nresults: ${file}`);
  return 0;
}
