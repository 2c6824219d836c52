// The load generator: wrk (Debian's package) pinned to the second core, or — where wrk is not
// installed — a small closed-loop Node generator with the same interface (its figures are
// generator-bound much earlier; the table says which one ran).
//
// Every run keeps `connections` connections busy for `durationS` seconds and reports requests,
// latency percentiles and errors. A pool file gives each request its own credential (a refresh
// token may be used once): line k of the file replaces @ITEM@ in the path, headers and body of
// request k, starting after `offset` lines already used by earlier runs.

import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinned } from './machine.ts';
import { LOAD_CORE } from './proc.ts';
import { BENCH_DIR, tempDir } from './util.ts';

export const ITEM = '@ITEM@';

export interface LoadRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** A file with one credential per line, substituted for @ITEM@. */
  readonly pool?: { readonly file: string; readonly size: number; readonly singleUse: boolean };
}

export interface LoadOptions {
  readonly connections: number;
  readonly durationS: number;
  /** Pool lines already used by earlier runs against the same server. */
  readonly offset?: number;
}

export interface LoadResult {
  readonly generator: 'wrk' | 'node';
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Socket errors and timeouts. */
  readonly socketErrors: number;
  /** Responses with a status of 400 or more. */
  readonly non2xx: number;
  /** Requests generated (pool lines consumed). */
  readonly used: number;
  /** Requests that reused a single-use pool line (the pool ran out). */
  readonly reused: number;
}

export type Generator = 'wrk' | 'node';

export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

export function wrkVersion(): string | null {
  const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (out.error) return null;
  return /wrk\s+(\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
}

let scriptDir: string | null = null;

function luaString(value: string): string {
  let level = '=';
  while (value.includes(`]${level}]`)) level += '=';
  return `[${level}[${value}]${level}]`;
}

/** A wrk script for one request shape: static, or one pool line per request. */
export function wrkScript(request: LoadRequest): string {
  const lines = [
    'local threads = {}',
    'function setup(thread) table.insert(threads, thread) end',
    `wrk.method = ${luaString(request.method)}`,
    `wrk.path = ${luaString(request.path)}`,
    `wrk.body = ${request.body === undefined ? 'nil' : luaString(request.body)}`,
    ...Object.entries(request.headers ?? {}).map(([k, v]) => `wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`),
    'used = 0',
  ];
  if (request.pool) {
    lines.push(
      `local pool_file = ${luaString(request.pool.file)}`,
      'local items = {}',
      'local reqs = nil',
      'local n = 0',
      'local at = 0',
      'local function fill(s, item)',
      '  if type(s) ~= "string" then return s end',
      `  return (s:gsub(${luaString(ITEM)}, (item:gsub("%%", "%%%%"))))`,
      'end',
      'local function build(item)',
      '  local h = {}',
      '  for k, v in pairs(wrk.headers) do if k ~= "Content-Length" then h[k] = fill(v, item) end end',
      '  return wrk.format(wrk.method, fill(wrk.path, item), h, fill(wrk.body, item))',
      'end',
      'function init(args)',
      '  local skip = tonumber(args[1]) or 0',
      '  local all = {}',
      '  for line in io.lines(pool_file) do if #line > 0 then all[#all + 1] = line end end',
      '  n = #all',
      '  for k = 1, n do items[k] = all[((skip + k - 1) % n) + 1] end',
      '  if n <= 20000 then',
      '    reqs = {}',
      '    for k = 1, n do reqs[k] = build(items[k]) end',
      '  end',
      'end',
      'function request()',
      '  at = at + 1',
      '  used = used + 1',
      '  if at > n then at = 1 end',
      '  if reqs then return reqs[at] end',
      '  return build(items[at])',
      'end',
    );
  }
  lines.push(
    'function done(summary, latency, requests)',
    '  local u = 0',
    '  for _, t in ipairs(threads) do u = u + (tonumber(t:get("used")) or 0) end',
    '  local e = summary.errors',
    '  io.write(string.format(\'WRK_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"used":%d}\\n\',',
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,',
    '    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, u))',
    'end',
  );
  return `${lines.join('\n')}\n`;
}

interface RawResult {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  status: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  used: number;
}

function toResult(generator: Generator, raw: RawResult, request: LoadRequest, offset: number): LoadResult {
  const durationS = raw.duration_us / 1e6;
  const fresh = request.pool ? Math.max(0, request.pool.size - offset) : Number.POSITIVE_INFINITY;
  return {
    generator,
    requests: raw.requests,
    durationS,
    rps: durationS > 0 ? raw.requests / durationS : 0,
    p50Ms: raw.p50 / 1000,
    p90Ms: raw.p90 / 1000,
    p99Ms: raw.p99 / 1000,
    maxMs: raw.max / 1000,
    socketErrors: raw.connect + raw.read + raw.write + raw.timeout,
    non2xx: raw.status,
    used: request.pool ? raw.used : raw.requests,
    reused: request.pool?.singleUse ? Math.max(0, raw.used - fresh) : 0,
  };
}

function run(argv: string[], env?: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-8000)));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr, pid: child.pid ?? 0 }));
    runningGenerators.add(child.pid ?? 0);
    child.once('exit', () => runningGenerators.delete(child.pid ?? 0));
  });
}

/** Pids of generator processes now running (for the noise meter). */
export const runningGenerators = new Set<number>();

export async function runLoad(generator: Generator, baseUrl: string, request: LoadRequest, options: LoadOptions): Promise<LoadResult> {
  scriptDir ??= tempDir('load');
  const offset = options.offset ?? 0;
  let argv: string[];
  if (generator === 'wrk') {
    const script = join(scriptDir, `script-${Math.random().toString(36).slice(2)}.lua`);
    writeFileSync(script, wrkScript(request));
    argv = pinned(LOAD_CORE, [
      'wrk',
      '-t1',
      `-c${options.connections}`,
      `-d${options.durationS}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      baseUrl.replace(/\/+$/, ''),
      '--',
      String(offset),
    ]);
  } else {
    const config = join(scriptDir, `node-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(config, JSON.stringify({ baseUrl, request, connections: options.connections, durationS: options.durationS, offset }));
    argv = pinned(LOAD_CORE, [process.execPath, join(BENCH_DIR, 'lib', 'loadgen-node.ts'), config]);
  }
  const out = await run(argv);
  const line = /^WRK_RESULT (.+)$/m.exec(out.stdout);
  if (!line) throw new Error(`${generator} failed (exit ${out.code}): ${out.stderr || out.stdout}`.slice(0, 2000));
  return toResult(generator, JSON.parse(line[1] as string) as RawResult, request, offset);
}
