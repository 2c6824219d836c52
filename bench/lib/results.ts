// Where results go (bench/results/, git-ignored) and the run header printed on the terminal.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Generator } from './load.ts';
import type { MachineFacts } from './machine.ts';
import type { Options } from './options.ts';
import { BENCH_DIR } from './util.ts';

export const RESULTS_DIR = join(BENCH_DIR, 'results');

export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
}

/** Writes <name>.json (and <name>.md when given) under bench/results/; returns the JSON path. */
export function writeResults(name: string, data: unknown, markdown?: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  if (markdown) writeFileSync(join(RESULTS_DIR, `${name}.md`), markdown);
  return file;
}

export function header(opts: Options, generator: Generator, machine: MachineFacts): void {
  const log = (message: string) => process.stderr.write(`${message}\n`);
  log(
    `gatehouse bench · ${opts.mode} · ${opts.rounds} round(s) × (${opts.warmupS}s warm-up + ${opts.durationS}s) · ` +
      `${opts.connections} connections · generator ${generator}` +
      (machine.taskset ? ' · server on CPU 0, load on CPU 1' : ' · no pinning (taskset or a second core missing)'),
  );
  log(`${machine.cpuModel} · ${machine.cores} cores · ${machine.memoryGiB} GiB · load ${machine.loadavg.join(' ')}`);
}
