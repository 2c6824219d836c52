// The README's reference sections stay in step with the code: every configuration key with its
// environment variable, flag and default; every exit code; the set-up commands first.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/main.ts';
import { EXIT_CODE_HELP } from '../../src/cli/errors.ts';
import type { Io } from '../../src/cli/io.ts';
import { CONFIG_KEYS, DEFAULTS, envName, flagName } from '../../src/config.ts';
import { ROOT } from '../cli/process.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The rows of the markdown table whose header row starts with `| <first> |`, as cell arrays. */
function table(first: string): string[][] {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  assert.ok(start >= 0, `README has a table starting with "| ${first} |"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, line.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  }
  return rows;
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

test('the configuration table lists exactly the keys of CONFIG_KEYS', () => {
  const keys = table('key').map((row) => unquote(row[0] ?? ''));
  for (const key of Object.keys(CONFIG_KEYS)) assert.ok(keys.includes(key), `README configuration table lacks "${key}"`);
  assert.deepEqual([...keys].sort(), Object.keys(CONFIG_KEYS).sort(), 'no rows for keys that do not exist');
});

test('each configuration row names the right variable, flag and default', () => {
  const serve = buildProgram({ env: {} } as Io).commands.find((c) => c.name() === 'serve');
  assert.ok(serve);
  const serveFlags = new Set(serve.options.map((o) => o.long));
  for (const [keyCell, envCell, flagCell, defaultCell] of table('key')) {
    const key = unquote(keyCell ?? '') as keyof typeof CONFIG_KEYS;
    assert.equal(unquote(envCell ?? ''), envName(key), `${key}: environment variable`);
    assert.equal(unquote(flagCell ?? ''), flagName(key), `${key}: flag`);
    assert.ok(serveFlags.has(flagName(key)), `gatehouse serve has ${flagName(key)}`);
    const value = DEFAULTS[key];
    if (value === null || value === '') continue;
    const expected = Array.isArray(value) ? value.join(',') : String(value);
    assert.equal(unquote(defaultCell ?? ''), expected, `${key}: default`);
  }
});

test('the exit code table matches the command', () => {
  const rows = table('code').map(([code, meaning]) => [Number(code), meaning]);
  assert.deepEqual(rows, EXIT_CODE_HELP.map(([code, meaning]) => [code, meaning]));
});

test('the set-up commands come first, and linked files exist', () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  assert.match(firstBlock, /^npm install && npm start\s/m);
  assert.match(firstBlock, /^npm test\s/m);
  assert.ok(readme.indexOf('```sh') < readme.indexOf('\n## '), 'before any section');
  for (const [, target] of readme.matchAll(/\]\((?!https?:|#)([^)]+)\)/g)) {
    const [file = '', anchor] = (target ?? '').split('#');
    assert.ok(existsSync(join(ROOT, file)), `README links to ${file}, which exists`);
    if (anchor === undefined) continue;
    const slugs = [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => slug(heading ?? ''));
    assert.ok(slugs.includes(anchor), `README links to ${target}, whose heading exists`);
  }
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}
