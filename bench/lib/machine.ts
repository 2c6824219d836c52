// Facts about the machine and the processes on it, read from /proc: CPU model, cores, memory,
// load, CPU time (to tell how much of a window went to other people's work), resident memory.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export interface MachineFacts {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly loadavg: readonly number[];
  readonly kernel: string;
  readonly taskset: boolean;
}

export function machineFacts(): MachineFacts {
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const mem = /^MemTotal:\s*(\d+) kB/m.exec(read('/proc/meminfo') ?? '');
  return {
    cpuModel: model.trim(),
    cores: availableParallelism(),
    memoryGiB: Math.round(((mem ? Number(mem[1]) * 1024 : totalmem()) / 2 ** 30) * 10) / 10,
    loadavg: loadavg().map((v) => Math.round(v * 100) / 100),
    kernel: (read('/proc/sys/kernel/osrelease') ?? 'unknown').trim(),
    taskset: tasksetWorks(),
  };
}

let tasksetChecked: boolean | null = null;

/** taskset exists and there are at least two cores to split between server and load generator. */
export function tasksetWorks(): boolean {
  if (tasksetChecked === null) {
    tasksetChecked = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  }
  return tasksetChecked;
}

/** argv prefixed with `taskset -c <core>` when pinning is possible. */
export function pinned(core: number, argv: readonly string[]): string[] {
  return tasksetWorks() ? ['taskset', '-c', String(core), ...argv] : [...argv];
}

export interface CpuSnapshot {
  /** Jiffies of all CPUs: busy (user+nice+system), steal, total. */
  readonly busy: number;
  readonly steal: number;
  readonly total: number;
  readonly cpus: number;
}

export function cpuSnapshot(): CpuSnapshot {
  const stat = read('/proc/stat') ?? '';
  const line = /^cpu\s+(.+)$/m.exec(stat)?.[1] ?? '';
  const f = line.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const cpuLines = stat.match(/^cpu\d+\s/gm)?.length ?? 1;
  return { busy: user + nice + system, steal, total: user + nice + system + idle + iowait + irq + softirq + steal, cpus: cpuLines };
}

/** User + system jiffies of a process (all its threads) and its waited-for children. */
export function processTicks(pid: number): number {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14..17.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
}

export interface Noise {
  /** CPU used by processes other than ours during the window, in cores (0.25 = a quarter core). */
  readonly foreignCores: number;
  /** Share of CPU time the hypervisor stole during the window. */
  readonly stealShare: number;
}

/** Measures the CPU that processes other than `pids` used between start() and stop(). */
export function noiseMeter(pids: () => readonly number[]) {
  let before: CpuSnapshot | null = null;
  let ours = 0;
  return {
    start(): void {
      before = cpuSnapshot();
      ours = pids().reduce((sum, pid) => sum + processTicks(pid), 0);
    },
    stop(): Noise {
      const after = cpuSnapshot();
      const start = before ?? after;
      const oursDelta = pids().reduce((sum, pid) => sum + processTicks(pid), 0) - ours;
      const total = after.total - start.total;
      const perCpu = total / Math.max(1, after.cpus);
      const foreign = Math.max(0, after.busy - start.busy - oursDelta);
      return {
        foreignCores: perCpu > 0 ? Math.round((foreign / perCpu) * 1000) / 1000 : 0,
        stealShare: total > 0 ? Math.round(((after.steal - start.steal) / total) * 1000) / 1000 : 0,
      };
    },
  };
}

let ticksPerSecond: number | null = null;

/** USER_HZ: the unit of the CPU times in /proc (100 on Linux almost everywhere). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system, all threads) used so far by these processes. */
export function cpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processTicks(pid), 0) / clockTicksPerSecond();
}

/** Resident set size of a process, bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  const status = read(`/proc/${pid}/status`);
  const kb = status ? /^VmRSS:\s*(\d+) kB/m.exec(status)?.[1] : undefined;
  return kb ? Number(kb) * 1024 : 0;
}

/** Samples a process's RSS every `intervalMs` until stopped; returns the peak. */
export function rssSampler(pid: number, intervalMs = 200) {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, intervalMs);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

/** The TCP port a process listens on, from its socket inodes and /proc/net/tcp{,6}; null if none yet. */
export function listeningPort(pid: number): number | null {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1] as string);
      } catch {
        // the descriptor closed meanwhile
      }
    }
  } catch {
    return null;
  }
  if (inodes.size === 0) return null;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (read(table) ?? '').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A') continue; // LISTEN
      if (!inodes.has(cols[9] ?? '')) continue;
      const port = Number.parseInt((cols[1] ?? '').split(':')[1] ?? '', 16);
      if (Number.isFinite(port)) return port;
    }
  }
  return null;
}

/**
 * Pids of the processes whose command name is `name` and whose command line (a PostgreSQL
 * backend shows "postgres: user database host state" there) contains `including`.
 */
export function pidsNamed(name: string, including = ''): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (read(`/proc/${entry}/comm`)?.trim() !== name) continue;
    if (including && !(read(`/proc/${entry}/cmdline`) ?? '').includes(including)) continue;
    pids.push(Number(entry));
  }
  return pids;
}

// ---- host speed ---------------------------------------------------------------------------------

/**
 * On a virtual machine whose host does not report steal time, the host taking the CPU away shows
 * nowhere in /proc: the guest goes on counting the time as the running process's CPU time, so
 * every figure of a window inflates at once (seen here: CPU per request doubling for every
 * scenario for minutes, with "other CPU" at 0). A fixed piece of arithmetic then takes more CPU
 * time too. probeHost() times it (best of three) and returns how much slower it ran than the
 * fastest probe of this run: 1.0 on a steady host, 2.0 when the host gives half a CPU.
 */
let fastestProbeUs = Number.POSITIVE_INFINITY;

function probeOnceUs(): number {
  const before = process.cpuUsage();
  let x = 0;
  for (let i = 0; i < 1_000_000; i++) x = (x * 31 + i) % 1_000_003;
  const used = process.cpuUsage(before);
  if (x < 0) throw new Error('unreachable'); // keeps the loop from being optimised away
  return used.user + used.system;
}

export function probeHost(): number {
  // the first probes of a process run while the loop is still being compiled
  if (fastestProbeUs === Number.POSITIVE_INFINITY) for (let i = 0; i < 5; i++) probeOnceUs();
  const us = Math.min(probeOnceUs(), probeOnceUs(), probeOnceUs());
  fastestProbeUs = Math.min(fastestProbeUs, us);
  return Math.round((us / fastestProbeUs) * 100) / 100;
}
