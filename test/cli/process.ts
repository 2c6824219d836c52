// Runs the real `gatehouse` command in child processes: one-shot commands and a server on a free
// port, each in its own temporary directory, with cheap argon2 settings.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'bin', 'gatehouse.js');
export const EXAMPLE_BUNDLE = join(ROOT, 'examples', 'bundle.yaml');

export interface Sandbox {
  /** The temporary directory; removed by cleanup(). */
  readonly dir: string;
  readonly dataDir: string;
  readonly credentials: string;
  /** Environment for the child processes: no inherited GATEHOUSE_* settings, fast argon2. */
  readonly env: NodeJS.ProcessEnv;
  cleanup(): void;
}

export function sandbox(extraEnv: Record<string, string> = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('GATEHOUSE_') && name !== 'XDG_CONFIG_HOME' && !name.startsWith('NODE_TEST')) env[name] = value;
  }
  const dataDir = join(dir, 'data');
  const credentials = join(dir, 'config', 'gatehouse', 'credentials.json');
  Object.assign(env, {
    HOME: join(dir, 'home'),
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_CREDENTIALS: credentials,
    GATEHOUSE_ARGON2_MEMORY_KIB: '1024',
    GATEHOUSE_ARGON2_ITERATIONS: '1',
    ...extraEnv,
  });
  return { dir, dataDir, credentials, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `gatehouse <args>` to completion; `input` is written to its stdin. A command still running
 * after `timeoutMs` is killed and reported with code null (a command that should have ended).
 */
export function gatehouse(
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: options.env, cwd: options.cwd ?? ROOT, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n[still running after ${options.timeoutMs ?? 60_000} ms: killed]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the server wrote so far (stdout then stderr). */
  output(): string;
  /** Log lines (JSON) from stdout parsed so far. */
  logs(): Record<string, unknown>[];
  /** Resolves once a log line satisfies `match`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal (default SIGTERM) and resolves with the exit code once the process ended. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/** Starts `gatehouse serve --port 0` and resolves once it logged `gatehouse listening` with its url. */
export async function startServerProcess(
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
  timeoutMs = 30_000,
): Promise<ServerProcess> {
  if (['warn', 'error', 'fatal', 'silent'].includes(env.GATEHOUSE_LOG_LEVEL ?? '')) {
    throw new Error('startServerProcess reads the "gatehouse listening" line: use log level info or lower');
  }
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const parsed: Record<string, unknown>[] = [];
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    let newline: number;
    while ((newline = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, newline);
      partial = partial.slice(newline + 1);
      try {
        parsed.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const wake of waiters) wake();
  });

  const waitForLog = (match: (line: Record<string, unknown>) => boolean, waitMs = timeoutMs) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = parsed.find(match);
        if (found) {
          cleanup();
          resolve(found);
        } else if (ended) {
          cleanup();
          reject(new Error(`server exited before the expected log line:\n${stdout}\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no such log line within ${waitMs} ms:\n${stdout}\n${stderr}`));
      }, waitMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  let listening: Record<string, unknown>;
  try {
    listening = await waitForLog((line) => line.msg === 'gatehouse listening' && typeof line.url === 'string');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: listening.url as string,
    child,
    output: () => `${stdout}\n${stderr}`,
    logs: () => [...parsed],
    waitForLog,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}

/** A loopback port nothing listens on (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it returns a value other than undefined (for changes another process makes). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | null = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
