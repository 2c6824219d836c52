// A closed-loop HTTP load generator in Node, used when wrk is not installed. It keeps N
// keep-alive connections busy for a fixed time and prints the same WRK_RESULT line as the wrk
// script (latencies in microseconds).
//
// usage: node bench/lib/loadgen-node.ts <config.json>

import { Agent, request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';

interface Config {
  baseUrl: string;
  request: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    pool?: { file: string; size: number };
  };
  connections: number;
  durationS: number;
  offset: number;
}

const ITEM = '@ITEM@';
const config = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Config;
const base = new URL(config.baseUrl);
const agent = new Agent({ keepAlive: true, maxSockets: config.connections });
const items = config.request.pool ? readFileSync(config.request.pool.file, 'utf8').split('\n').filter(Boolean) : null;
let used = 0;

function next(): { path: string; headers: Record<string, string>; body: string | undefined } {
  const r = config.request;
  const item = items ? (items[(config.offset + used) % items.length] as string) : null;
  used++;
  const fill = (s: string) => (item === null ? s : s.split(ITEM).join(item));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k] = fill(v);
  const body = r.body === undefined ? undefined : fill(r.body);
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return { path: fill(r.path), headers, body };
}

function send(): Promise<number> {
  const { path, headers, body } = next();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: base.hostname, port: base.port, method: config.request.method, path, headers, agent },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end(body);
  });
}

const latencies: number[] = [];
let status = 0;
let read = 0;
let requests = 0;
const started = performance.now();
const end = started + config.durationS * 1000;

async function loop(): Promise<void> {
  while (performance.now() < end) {
    const t0 = performance.now();
    try {
      const code = await send();
      requests++;
      if (code > 399) status++;
      latencies.push((performance.now() - t0) * 1000);
    } catch {
      read++;
    }
  }
}

await Promise.all(Array.from({ length: config.connections }, loop));
const duration = performance.now() - started;
agent.destroy();
latencies.sort((a, b) => a - b);
const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0);
const result = {
  requests,
  duration_us: Math.round(duration * 1000),
  connect: 0,
  read,
  write: 0,
  timeout: 0,
  status,
  p50: pct(50),
  p90: pct(90),
  p99: pct(99),
  max: Math.round(latencies[latencies.length - 1] ?? 0),
  used,
};
process.stdout.write(`WRK_RESULT ${JSON.stringify(result)}\n`);
