// Terminal input and output helpers for the CLI.

import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CliError, EXIT } from './errors.ts';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(io: Io, line = ''): void {
  io.stdout.write(`${line}\n`);
}

/** A plain aligned table. */
export function printTable(io: Io, headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  printLine(io, line(headers));
  for (const row of rows) printLine(io, line(row));
}

export function isTerminal(stream: NodeJS.WritableStream | NodeJS.ReadableStream): boolean {
  return Boolean((stream as { isTTY?: boolean }).isTTY);
}

/** Reads all of stdin (for --password-stdin), without the trailing newline. */
export async function readStdin(io: Io): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Asks for a secret on the terminal without echoing it. */
export async function promptSecret(io: Io, question: string): Promise<string> {
  if (!io.stdin.isTTY) {
    throw new CliError('no terminal to ask for a password on: pass --password-stdin and pipe it in', EXIT.usage);
  }
  io.stderr.write(question);
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input: io.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    io.stderr.write('\n');
  }
}

/** A one-line progress display on a terminal; silent otherwise. */
export function progress(io: Io, label: string): (done: number, total: number) => void {
  if (!isTerminal(io.stderr)) return () => undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done !== total && now - last < 100) return;
    last = now;
    const pct = total ? Math.floor((done / total) * 100) : 100;
    io.stderr.write(`\r${label} ${done}/${total} (${pct}%)${done === total ? '\n' : ''}`);
  };
}
