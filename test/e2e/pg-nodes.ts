// Real Gatehouse processes for the multi-node tests: `gatehouse serve --port 0` on a database
// URL, its address read from the 'gatehouse listening' log line, stopped with SIGTERM.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/cli/main.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Cheap password hashing for test processes (both spellings of the memory setting's variable). */
export const FAST_ENV: Record<string, string> = {
  GATEHOUSE_ARGON2_MEMORY_KIB: '1024',
  GATEHOUSE_ARGON2_MEMORY_KI_B: '1024',
  GATEHOUSE_ARGON2_ITERATIONS: '1',
};

export interface GatehouseNode {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function startNode(databaseUrl: string, options: { bundle?: string; env?: Record<string, string> } = {}): Promise<GatehouseNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-node-'));
  const args = [join(ROOT, 'bin/gatehouse.js'), 'serve', '--port', '0', '--database-url', databaseUrl, '--log-level', 'info'];
  if (options.bundle !== undefined) {
    const file = join(dataDir, 'bundle.yaml');
    writeFileSync(file, options.bundle);
    args.push('--bundle', file);
  }
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...FAST_ENV, GATEHOUSE_DATA_DIR: dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start within 30 s:\n${output}`)), 30_000);
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === 'gatehouse listening' && typeof entry.url === 'string') {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // not a log line
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`node exited before listening:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(force);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a `gatehouse` CLI command in this process; throws unless it exits 0. */
export async function cli(args: string[]): Promise<string> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on('data', (c: Buffer) => err.push(c));
  const stdin = new PassThrough();
  stdin.end();
  const code = await run(args, { stdout, stderr, stdin, env: { ...FAST_ENV, HOME: tmpdir() } });
  if (code !== 0) throw new Error(`gatehouse ${args[0]} exited ${code}: ${Buffer.concat(err).toString('utf8')}`);
  return Buffer.concat(out).toString('utf8');
}

export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

/** One HTTP request; a failure to connect is a status of 0. */
export async function request(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; json?: unknown; form?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  try {
    const res = await fetch(`${base}${path}`, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  } catch {
    return { status: 0, body: null };
  }
}

export async function loginAt(base: string, username: string, password: string): Promise<{ access_token: string; refresh_token: string }> {
  const res = await request(base, '/api/auth/provider/local/token', { form: { username, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { access_token: string; refresh_token: string };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns true or `withinMs` have passed since `since`; returns how long
 * it took (ms), or null if the deadline passed.
 */
export async function within(withinMs: number, probe: () => Promise<boolean>, since = Date.now()): Promise<number | null> {
  const deadline = since + withinMs;
  for (;;) {
    if (await probe()) return Date.now() - since;
    if (Date.now() >= deadline) return null;
    await sleep(20);
  }
}
