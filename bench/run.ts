// `npm run bench`: starts each server on loopback one after another (pinned to core 0 where
// taskset works; the load generator on core 1), measures every scenario in rounds, prints one
// table with ratios to ceilings and peers, and writes it to bench/results/<timestamp>.json.
// See USAGE in lib/options.ts for the modes (--quick, --smoke, --scale, --profile).

import { spawnSync } from 'node:child_process';
import { BUILTIN_ROLES } from '../src/core/builtin.ts';
import { installSignalHandlers, cleanupAll, onCleanup } from './lib/cleanup.ts';
import { SQLITE, startGatehouse } from './lib/gatehouse.ts';
import { wrkAvailable, type Generator } from './lib/load.ts';
import { machineFacts } from './lib/machine.ts';
import { header, timestamp, writeResults } from './lib/results.ts';
import { measure, type WindowResult } from './lib/measure.ts';
import { parseOptions, USAGE, type Options } from './lib/options.ts';
import { buildRows, checkTargets, COLUMNS, markdownTable, rowCells, targetCells, textTable, type Row } from './lib/report.ts';
import { BENCH_DIR, fmtMs, fmtRate, median, removeDir, tempDir } from './lib/util.ts';
import { versions } from './lib/versions.ts';
import { peerInstalled, REFRESH_RATE_BOUND, SCENARIOS, TARGETS, type Scenario } from './scenarios.ts';
import { runScale } from './scale.ts';
import { runProfile } from './profile.ts';

const t0 = performance.now();
const log = (message: string) => {
  const s = Math.round((performance.now() - t0) / 1000);
  process.stderr.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${message}\n`);
};
const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0] as string;


/** Installs bench/'s own dependencies (the peers) from its lockfile when they are missing. */
function ensureBenchDependencies(): void {
  if (peerInstalled('peer-better-auth') === null && peerInstalled('peer-oidc-provider') === null) return;
  log('installing the benchmark peers: npm ci --prefix bench');
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const out = spawnSync(npm[0] as string, [...npm.slice(1), 'ci', '--prefix', BENCH_DIR, '--no-audit', '--no-fund'], {
    stdio: ['ignore', 2, 2],
  });
  if (out.status !== 0) log('npm ci --prefix bench failed: the peers will be skipped');
}

function fallbackScopesBody(): string {
  const roles = ['admin', 'expert'];
  const scopes = [...new Set(roles.flatMap((r) => BUILTIN_ROLES.get(r) ?? []))].sort();
  return JSON.stringify({ roles, scopes });
}

interface Progress {
  done: number;
  total: number;
  started: number;
}

function eta(p: Progress): string {
  if (p.done === 0) return '';
  const perItem = (performance.now() - p.started) / p.done;
  const left = Math.round((perItem * (p.total - p.done)) / 1000);
  return ` · about ${left >= 60 ? `${Math.floor(left / 60)}m${String(left % 60).padStart(2, '0')}s` : `${left}s`} left`;
}

async function runTable(opts: Options, generator: Generator): Promise<number> {
  const machine = machineFacts();
  header(opts, generator, machine);
  const selected: Scenario[] =
    opts.mode === 'smoke'
      ? SCENARIOS.filter((s) => s.id === 'gatehouse-sqlite/scopes-apikey')
      : SCENARIOS.filter((s) => !opts.only || opts.only.test(s.id));
  if (selected.length === 0) {
    log('no scenario matches');
    return 2;
  }
  const targets = TARGETS.filter((t) => selected.some((s) => s.target === t.id));
  const problems = new Map<string, { status: 'skipped' | 'failed'; reason: string }>();
  const skipped = new Set<string>();
  for (const target of targets) {
    const reason = await target.check();
    if (reason) {
      skipped.add(target.id);
      log(`skipping ${target.label}: ${reason}`);
      for (const s of selected) if (s.target === target.id) problems.set(s.id, { status: 'skipped', reason });
    }
  }

  let scopesBody = fallbackScopesBody();
  const learnsScopes = runnableHasGatehouseSqlite(selected, skipped);
  if (selected.some((s) => s.kind === 'ceiling') && !learnsScopes) {
    try {
      const probe = await startGatehouse(SQLITE, { refreshPool: 0 });
      scopesBody = probe.fixtures.scopesBody ?? scopesBody;
      await probe.stop();
    } catch (error) {
      log(`could not start Gatehouse to learn the /scopes body (${firstLine(error)}); the floor returns the built-in roles' scopes`);
    }
  }

  const windows = new Map<string, WindowResult[]>(selected.map((s) => [s.id, []]));
  const runnable = selected.filter((s) => !skipped.has(s.target));
  const progress: Progress = { done: 0, total: runnable.length * opts.rounds, started: performance.now() };
  const repeatBudget = { seconds: 0.25 * runnable.length * opts.rounds * opts.durationS };
  const loadBefore = machine.loadavg;
  const versionsAtStart = versions();

  for (let round = 1; round <= opts.rounds; round++) {
    for (const target of targets) {
      if (skipped.has(target.id)) continue;
      const scenarios = runnable.filter((s) => s.target === target.id);
      const usesPool = scenarios.some((s) => s.needs.includes('refreshPool'));
      const dir = tempDir(target.id);
      const poolSize = usesPool ? Math.ceil(REFRESH_RATE_BOUND * (opts.warmupS + 2 * opts.durationS + 1)) : 0;
      let running;
      try {
        log(`[round ${round}/${opts.rounds}] starting ${target.label}`);
        running = await target.start({ dir, scopesBody, refreshPoolSize: poolSize });
        if (target.id === 'gatehouse-sqlite' && running.fixtures.scopesBody) scopesBody = running.fixtures.scopesBody;
      } catch (error) {
        log(`  ${target.label} failed to start: ${firstLine(error)}`);
        for (const s of scenarios) problems.set(s.id, { status: 'failed', reason: `start failed: ${firstLine(error)}` });
        progress.done += scenarios.length;
        removeDir(dir);
        continue;
      }
      const forget = onCleanup(() => running.stop());
      try {
        for (const s of scenarios) {
          progress.done++;
          const missing = s.needs.find((n) => !(n in running.fixtures));
          if (missing) {
            const reason = running.missing[missing] ?? `no ${missing} fixture`;
            problems.set(s.id, { status: 'skipped', reason });
            log(`  ${s.id}: skipped (${reason})`);
            continue;
          }
          try {
            const w = await measure(
              {
                generator,
                connections: opts.connections,
                warmupS: opts.warmupS,
                durationS: opts.durationS,
                noiseLimit: opts.noiseLimit, slowLimit: opts.slowLimit,
                round,
                repeatBudget,
                extraPids: target.extraPids ? () => target.extraPids?.() ?? [] : undefined,
              },
              running.url,
              running.pid,
              s.request(running.fixtures),
              (note) => log(`  ${s.id}: ${note}`),
            );
            windows.get(s.id)?.push(w);
            const errs = w.non2xx + w.socketErrors + w.reused;
            log(
              `  ${s.id.padEnd(34)} ${fmtRate(w.rps).padStart(7)} req/s  ${w.cpuUsPerRequest.toFixed(0).padStart(5)} µs CPU/req  p50 ${fmtMs(w.p50Ms)} ms  p99 ${fmtMs(w.p99Ms)} ms` +
                `${errs ? `  ${errs} errors` : ''}  other CPU ${w.foreignCores.toFixed(2)}  host ${w.hostSlowdown.toFixed(2)}×${eta(progress)}`,
            );
          } catch (error) {
            problems.set(s.id, { status: 'failed', reason: firstLine(error) });
            log(`  ${s.id}: failed: ${firstLine(error)}`);
          }
        }
      } finally {
        forget();
        await running.stop();
        removeDir(dir);
      }
    }
  }

  const rows = buildRows(selected, windows, problems);
  if (opts.mode === 'smoke') {
    const row = rows[0] as Row;
    process.stdout.write(
      `${JSON.stringify({ id: row.id, status: row.status, reason: row.reason, generator, rps: row.rps, cpuUsPerRequest: row.cpuUsPerRequest, capacityRps: row.capacityRps, p50Ms: row.p50Ms, p99Ms: row.p99Ms, errors: row.errors, rssPeakBytes: row.rssPeakBytes })}\n`,
    );
    return row.status === 'ok' ? 0 : 1;
  }

  const checks = checkTargets(rows);
  const table = textTable(COLUMNS, rows.map(rowCells));
  const targetsText = textTable(['target', 'status', 'measured'], targetCells(checks));
  process.stdout.write(`\n${table}\n\nTargets (ratios from this run):\n${targetsText}\n`);
  const allWindows = [...windows.values()].flat();
  const noise = {
    loadavgBefore: loadBefore,
    loadavgAfter: machineFacts().loadavg,
    foreignCoresMedian: Math.round(median(allWindows.map((w) => w.foreignCores)) * 100) / 100,
    foreignCoresMax: Math.max(0, ...allWindows.map((w) => w.foreignCores)),
    hostSlowdownMedian: median(allWindows.map((w) => w.hostSlowdown)),
    hostSlowdownMax: Math.max(1, ...allWindows.map((w) => w.hostSlowdown)),
    windowsRepeated: allWindows.filter((w) => w.repeated).length,
    windows: allWindows.length,
  };
  const date = new Date();
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const meta = { date: date.toISOString(), command, options: { ...opts, only: opts.only?.source ?? null }, generator, machine, versions: versionsAtStart, noise };
  const markdown = [
    `Command: \`${command}\` · ${date.toISOString()} · generator ${generator}`,
    '',
    markdownTable(COLUMNS, rows.map(rowCells)),
    '',
    markdownTable(['target', 'status', 'measured'], targetCells(checks)),
    '',
    `Noise: load ${noise.loadavgBefore.join(' ')} before, ${noise.loadavgAfter.join(' ')} after; other processes used ` +
      `${noise.foreignCoresMedian} cores (median window), ${noise.foreignCoresMax} at most; the host ran ${noise.hostSlowdownMedian}× ` +
      `its fastest in the median window, ${noise.hostSlowdownMax}× at most; ${noise.windowsRepeated} of ${noise.windows} windows repeated.`,
    '',
  ].join('\n');
  const file = writeResults(timestamp(date), { ...meta, rows, targets: checks }, markdown);
  log(`\nresults: ${file}`);
  log(
    `noise: other processes used ${noise.foreignCoresMedian} cores in the median window (max ${noise.foreignCoresMax}); ` +
      `host slowdown ${noise.hostSlowdownMedian}× in the median window (max ${noise.hostSlowdownMax}×); ${noise.windowsRepeated} window(s) repeated`,
  );
  return 0;
}

/** Whether Gatehouse on SQLite runs before the ceilings (and so tells them its /scopes body). */
function runnableHasGatehouseSqlite(selected: readonly Scenario[], skipped: ReadonlySet<string>): boolean {
  return selected.some((s) => s.target === 'gatehouse-sqlite') && !skipped.has('gatehouse-sqlite');
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (error) {
    log(firstLine(error));
    log(USAGE);
    return 2;
  }
  if (opts.mode === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (opts.mode === 'list') {
    for (const s of SCENARIOS) process.stdout.write(`${s.id.padEnd(40)} ${s.label}\n`);
    return 0;
  }
  if (opts.generator === 'wrk' && !wrkAvailable()) {
    log('wrk is not installed (Debian: apt-get install -y wrk)');
    return 2;
  }
  const generator: Generator = opts.generator ?? (wrkAvailable() ? 'wrk' : 'node');
  if (generator === 'node' && opts.mode !== 'smoke') {
    log('wrk not found: using the built-in Node load generator, which saturates early (install wrk: apt-get install -y wrk)');
  }
  if ((opts.mode === 'full' || opts.mode === 'quick') && opts.install) ensureBenchDependencies();
  installSignalHandlers();
  try {
    if (opts.mode === 'scale') return await runScale(opts, generator);
    if (opts.mode === 'profile') return await runProfile(opts, generator);
    return await runTable(opts, generator);
  } finally {
    await cleanupAll();
  }
}

process.exitCode = await main(process.argv.slice(2));
