// `npm run bench -- --profile`: runs Gatehouse (SQLite) under V8's sampling profiler (--cpu-prof)
// while one introspection path is under load, once per path, and prints where the CPU went:
// the top frames by self time and the share per package or source folder, counted only over
// the measured window (start-up and warm-up are left out).

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onCleanup } from './lib/cleanup.ts';
import { POSTGRES, SQLITE, startGatehouse } from './lib/gatehouse.ts';
import { runLoad, type Generator } from './lib/load.ts';
import { machineFacts } from './lib/machine.ts';
import type { Options } from './lib/options.ts';
import { textTable } from './lib/report.ts';
import { header, RESULTS_DIR, timestamp, writeResults } from './lib/results.ts';
import { fmtMs, fmtRate, ROOT } from './lib/util.ts';
import { GATEHOUSE_PATHS, REFRESH_RATE_BOUND } from './scenarios.ts';

const log = (message: string) => process.stderr.write(`${message}\n`);

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FrameShare {
  readonly frame: string;
  readonly selfMs: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly windowed: boolean;
  readonly top: readonly FrameShare[];
  readonly byOrigin: readonly FrameShare[];
  /** Gatehouse functions by inclusive time (self + callees). */
  readonly gatehouseInclusive: readonly FrameShare[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  if (path.startsWith(`${ROOT}/`)) return path.slice(ROOT.length + 1);
  return path;
}

function origin(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName || '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const short = shortUrl(url);
  if (url.includes('/node_modules/')) {
    const parts = short.split('/');
    return (parts[0] ?? '').startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
  }
  if (short.startsWith('src/')) return short.split('/').slice(0, 2).join('/');
  return short;
}

function frameName(frame: CallFrame): string {
  const where = frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where}`;
}

/** Self and inclusive time per frame over the samples taken between `from` and `to` (µs, profile clock). */
export function summarize(profile: CpuProfile, from?: number, to?: number, top = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let t = profile.startTime;
  let counted = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (from !== undefined && to !== undefined && (t < from || t > to)) continue;
    const duration = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + duration);
    counted++;
  }
  const windowed = from !== undefined && counted > profile.samples.length * 0.1;
  if (from !== undefined && !windowed) return summarize(profile, undefined, undefined, top);

  let idle = 0;
  const frames = new Map<string, number>();
  const origins = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const name = frameName(node.callFrame);
    frames.set(name, (frames.get(name) ?? 0) + us);
    const o = origin(node.callFrame);
    origins.set(o, (origins.get(o) ?? 0) + us);
    // inclusive time for Gatehouse's own functions: each ancestor once per sample stack
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || !shortUrl(frame.url).startsWith('src/')) continue;
      const key = frameName(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const busy = [...frames.values()].reduce((a, b) => a + b, 0);
  const rank = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, windowed, top: rank(frames, top), byOrigin: rank(origins, 15), gatehouseInclusive: rank(inclusive, 15) };
}

/** Profiled by default; `--only REGEX` picks among all of Gatehouse's paths instead. */
const PROFILED_PATHS = ['scopes-apikey', 'scopes-jwt'];

export async function runProfile(opts: Options, generator: Generator): Promise<number> {
  const machine = machineFacts();
  header(opts, generator, machine);
  const stamp = timestamp();
  const dir = join(RESULTS_DIR, 'profiles', stamp);
  mkdirSync(dir, { recursive: true });
  const results: Record<string, { rps: number; p99Ms: number; profile: string; summary: ProfileSummary }> = {};
  const paths = opts.only ? GATEHOUSE_PATHS.filter((p) => opts.only?.test(p.id)) : GATEHOUSE_PATHS.filter((p) => PROFILED_PATHS.includes(p.id));
  if (paths.length === 0) {
    log(`[profile] no Gatehouse path matches --only ${String(opts.only)}`);
    return 1;
  }
  // GATEHOUSE_BENCH_PROFILE_BACKEND=postgres profiles Gatehouse on PostgreSQL instead of SQLite
  const backend = process.env.GATEHOUSE_BENCH_PROFILE_BACKEND === 'postgres' ? POSTGRES : SQLITE;
  const unavailable = await backend.check();
  if (unavailable) {
    log(`[profile] ${backend.id}: ${unavailable}`);
    return 1;
  }
  for (const path of paths) {
    const id = path.id;
    const name = `${id}.cpuprofile`;
    log(`[profile] ${id}: starting Gatehouse with --cpu-prof`);
    const refreshPool = path.needs.includes('refreshPool') ? Math.ceil(REFRESH_RATE_BOUND * (opts.warmupS + opts.durationS + 1)) : 0;
    const run = await startGatehouse(backend, { refreshPool, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`] });
    const forget = onCleanup(() => run.stop());
    let measured: { from: number; to: number; rps: number; p99Ms: number } | undefined;
    try {
      const request = path.request(run.fixtures);
      if (opts.warmupS > 0) await runLoad(generator, run.url, request, { connections: opts.connections, durationS: opts.warmupS });
      const from = Number(process.hrtime.bigint() / 1000n);
      const r = await runLoad(generator, run.url, request, { connections: opts.connections, durationS: opts.durationS });
      measured = { from, to: Number(process.hrtime.bigint() / 1000n), rps: r.rps, p99Ms: r.p99Ms };
      log(`[profile] ${id}: ${fmtRate(r.rps)} req/s, p99 ${fmtMs(r.p99Ms)} ms under the profiler`);
    } finally {
      forget();
      await run.stop();
    }
    const { from, to, rps, p99Ms } = measured;
    const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as CpuProfile;
    const summary = summarize(profile, from, to);
    results[id] = { rps, p99Ms, profile: join(dir, name), summary };
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    process.stdout.write(
      `\n${id}: ${fmtRate(rps)} req/s under the profiler; busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms` +
        `${summary.windowed ? ' (measured window only)' : ' (whole run)'}\n` +
        `${textTable(['top frames by self time', 'self ms', 'share'], summary.top.map((f) => [f.frame, f.selfMs.toFixed(0), pct(f.share)]))}\n\n` +
        `${textTable(['self time by origin', 'self ms', 'share'], summary.byOrigin.map((f) => [f.frame, f.selfMs.toFixed(0), pct(f.share)]))}\n\n` +
        `${textTable(['Gatehouse functions, inclusive', 'ms', 'share'], summary.gatehouseInclusive.map((f) => [f.frame, f.selfMs.toFixed(0), pct(f.share)]))}\n`,
    );
  }
  const file = writeResults(`profile-${stamp}`, { date: new Date().toISOString(), generator, machine, results });
  log(`\nprofiles: ${dir}\nsummary: ${file}`);
  return 0;
}
