// Starting and stopping benchmark servers: one at a time, pinned to core 0 where taskset works.

import { spawn, type ChildProcess } from 'node:child_process';
import { listeningPort, pinned } from './machine.ts';
import { sleep } from './util.ts';

export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  readonly fixtures: Record<string, string>;
  /** Milliseconds from spawn until the server accepted connections. */
  readonly startMs: number;
  /** The last lines the server printed (for error messages). */
  output(): string;
  stop(): Promise<number | null>;
}

export interface StartOptions {
  readonly argv: readonly string[];
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** How the server tells its URL: a `BENCH_READY {json}` line, or (Gatehouse) its listening socket. */
  readonly ready: 'announce' | 'socket';
  readonly pin?: boolean;
}

const TAIL = 16_384;

export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const argv = options.pin === false ? [...options.argv] : pinned(SERVER_CORE, options.argv);
  const started = performance.now();
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), {
    cwd: options.cwd,
    env: { ...process.env, NODE_ENV: 'production', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let announced: { url: string; fixtures: Record<string, string> } | null = null;
  let listened: string | null = null;
  let exited: number | null | undefined;
  const onData = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL);
    const ready = /^BENCH_READY (.+)$/m.exec(tail);
    if (ready && !announced) announced = JSON.parse(ready[1] as string) as typeof announced;
    if (!listened && tail.includes('gatehouse listening')) {
      for (const line of tail.split('\n')) {
        const url = line.includes('gatehouse listening') ? /"url":"(http[^"]+)"/.exec(line)?.[1] : undefined;
        if (url) listened = url;
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? -1 : null);
      resolve(code);
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${argv.join(' ')}`);

  const stop = async (): Promise<number | null> => {
    if (exited !== undefined) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exit;
    clearTimeout(timer);
    return code;
  };

  const deadline = started + (options.timeoutMs ?? 60_000);
  let url: string | null = null;
  let fixtures: Record<string, string> = {};
  while (performance.now() < deadline) {
    if (exited !== undefined) throw new Error(`server exited (${exited}) before it was ready:\n${tail.slice(-4000)}`);
    if (options.ready === 'announce' && announced) {
      const a = announced as { url: string; fixtures: Record<string, string> };
      url = a.url;
      fixtures = a.fixtures;
      break;
    }
    if (options.ready === 'socket') {
      if (listened) {
        url = listened;
        break;
      }
      const port = listeningPort(pid);
      if (port) {
        url = `http://127.0.0.1:${port}`;
        break;
      }
    }
    await sleep(options.ready === 'socket' ? 5 : 20);
  }
  if (!url) {
    await stop();
    throw new Error(`server not ready within ${options.timeoutMs ?? 60_000} ms:\n${tail.slice(-4000)}`);
  }
  return { pid, url, fixtures, startMs: performance.now() - started, output: () => tail, stop };
}
