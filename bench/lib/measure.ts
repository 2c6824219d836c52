// One measured window: warm-up, then a bounded window with the server's RSS sampled and the
// CPU other processes used meanwhile and how slow the host ran; a noisy window (other processes
// busy, or the host slow) is repeated once and the quieter one kept.

import { loadavg } from 'node:os';
import { cpuSeconds, noiseMeter, probeHost, rssSampler } from './machine.ts';
import { runLoad, type Generator, type LoadRequest, type LoadResult } from './load.ts';

export interface WindowResult {
  readonly round: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly requests: number;
  /** CPU the server (and its database, if separate) spent per request, µs. */
  readonly cpuUsPerRequest: number;
  /** Requests per second of server CPU: the throughput one dedicated core would give. */
  readonly capacityRps: number;
  /** CPU of the server process alone per request, µs (differs from cpuUsPerRequest with PostgreSQL). */
  readonly serverOnlyCpuUsPerRequest: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  /** Single-use credentials presented twice because the pool ran out. */
  readonly reused: number;
  readonly rssPeakBytes: number;
  readonly foreignCores: number;
  readonly stealShare: number;
  readonly load1: number;
  /**
   * How much slower than the fastest probe of the run the host ran a fixed computation, before
   * and after the window (the larger): 1.0 on a steady host (see probeHost).
   */
  readonly hostSlowdown: number;
  /** The first window was noisy and this is the better of two. */
  readonly repeated: boolean;
  /**
   * With a pool of reusable credentials: the first warm-up window, in which the server saw them
   * for the first time (what a restart under load looks like); null otherwise.
   */
  readonly firstSight: FirstSight | null;
}

export interface FirstSight {
  readonly rps: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly requests: number;
}

export interface WindowPlan {
  readonly generator: Generator;
  readonly connections: number;
  readonly warmupS: number;
  readonly durationS: number;
  readonly noiseLimit: number;
  /** A window whose host slowdown is above this is noisy too. */
  readonly slowLimit: number;
  readonly round: number;
  /** Seconds of repeated windows still allowed in this run (shared, decremented). */
  readonly repeatBudget: { seconds: number };
  /** Processes besides the server that belong to the system under test (e.g. PostgreSQL). */
  readonly extraPids?: () => readonly number[];
}

/** Warm-up windows at most, when one does not present a whole pool of reusable credentials. */
const MAX_WARMUPS = 5;

/** Pool lines used so far per pool file, so no single-use credential is presented twice. */
const poolOffsets = new Map<string, number>();

export function resetPool(file: string): void {
  poolOffsets.delete(file);
}

async function window(plan: WindowPlan, url: string, serverPid: number, request: LoadRequest, durationS: number) {
  const pool = request.pool?.file;
  const offset = pool ? (poolOffsets.get(pool) ?? 0) : 0;
  const meter = noiseMeter(() => [process.pid, serverPid, ...(plan.extraPids?.() ?? [])]);
  const rss = rssSampler(serverPid);
  const load1 = loadavg()[0] ?? 0;
  const systemPids = [serverPid, ...(plan.extraPids?.() ?? [])];
  const slowBefore = probeHost();
  const cpuBefore = cpuSeconds(systemPids);
  const serverBefore = cpuSeconds([serverPid]);
  meter.start();
  let result: LoadResult;
  try {
    result = await runLoad(plan.generator, url, request, { connections: plan.connections, durationS, offset });
  } finally {
    if (pool) poolOffsets.set(pool, offset);
  }
  const noise = meter.stop();
  const serverCpuS = cpuSeconds(systemPids) - cpuBefore;
  const serverOnlyCpuS = cpuSeconds([serverPid]) - serverBefore;
  const rssPeakBytes = rss.stop();
  const hostSlowdown = Math.max(slowBefore, probeHost());
  if (pool) poolOffsets.set(pool, offset + result.used);
  return { result, noise, rssPeakBytes, load1, serverCpuS, serverOnlyCpuS, hostSlowdown };
}

export async function measure(
  plan: WindowPlan,
  url: string,
  serverPid: number,
  request: LoadRequest,
  onNote: (note: string) => void = () => undefined,
): Promise<WindowResult> {
  let firstSight: FirstSight | null = null;
  if (plan.warmupS > 0) {
    // A pool of reusable credentials (one per principal spread over the data) is presented in
    // full during the warm-up, so that the window measures credentials in use, not first
    // sightings: at 1M principals one warm-up saw only part of a 5,000-token pool, and the window
    // then verified the rest (a profile of it showed the signature checks and the reads). Once
    // the pool is covered, one more warm-up window lets the server settle: right after 5,000
    // first sightings the code they ran is still being optimised and the caches just filled are
    // being promoted and marked by the GC, which put a JWT window's p99 at 7-12 ms where one
    // started a warm-up later read 3-4 ms, as at 1k.
    const reusable = request.pool?.singleUse === false ? request.pool : null;
    const cover = reusable?.size ?? 0;
    let used = 0;
    for (let i = 0; i < MAX_WARMUPS; i++) {
      const { result } = await window(plan, url, serverPid, request, plan.warmupS);
      if (reusable && i === 0) firstSight = { rps: result.rps, p99Ms: result.p99Ms, maxMs: result.maxMs, requests: result.requests };
      used += result.used;
      if (used >= cover) break;
    }
    if (reusable) await window(plan, url, serverPid, request, plan.warmupS);
  }
  let best = await window(plan, url, serverPid, request, plan.durationS);
  let repeated = false;
  const busy = best.noise.foreignCores > plan.noiseLimit;
  const slow = best.hostSlowdown > plan.slowLimit;
  if ((busy || slow) && plan.repeatBudget.seconds >= plan.durationS) {
    plan.repeatBudget.seconds -= plan.durationS;
    const why = [
      busy ? `other processes used ${best.noise.foreignCores.toFixed(2)} cores` : '',
      slow ? `the host ran ${best.hostSlowdown.toFixed(2)}× slower than its fastest` : '',
    ];
    onNote(`noisy window (${why.filter(Boolean).join(', ')}): repeating once`);
    const again = await window(plan, url, serverPid, request, plan.durationS);
    repeated = true;
    // the quieter of the two: each measure of noise counted as a share of what it allows
    const score = (w: typeof best) => Math.max(w.noise.foreignCores / plan.noiseLimit, (w.hostSlowdown - 1) / (plan.slowLimit - 1));
    if (score(again) < score(best)) best = again;
  }
  const r = best.result;
  return {
    round: plan.round,
    rps: r.rps,
    p50Ms: r.p50Ms,
    p90Ms: r.p90Ms,
    p99Ms: r.p99Ms,
    maxMs: r.maxMs,
    requests: r.requests,
    cpuUsPerRequest: r.requests > 0 ? (best.serverCpuS * 1e6) / r.requests : Number.NaN,
    capacityRps: best.serverCpuS > 0 ? r.requests / best.serverCpuS : Number.NaN,
    serverOnlyCpuUsPerRequest: r.requests > 0 ? (best.serverOnlyCpuS * 1e6) / r.requests : Number.NaN,
    non2xx: r.non2xx,
    socketErrors: r.socketErrors,
    reused: r.reused,
    rssPeakBytes: best.rssPeakBytes,
    foreignCores: best.noise.foreignCores,
    stealShare: best.noise.stealShare,
    load1: best.load1,
    hostSlowdown: best.hostSlowdown,
    repeated,
    firstSight,
  };
}
