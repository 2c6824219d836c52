// Versions of everything a result depends on.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wrkVersion } from './load.ts';
import { BENCH_DIR, ROOT } from './util.ts';

function packageVersion(dir: string, name: string): string | null {
  try {
    return (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

export function versions(): Record<string, string | null> {
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const dirty = spawnSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  const gatehouse = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    gatehouse: gatehouse,
    commit: git.status === 0 ? `${git.stdout.trim()}${dirty.stdout.trim() ? ' (with uncommitted changes)' : ''}` : null,
    node: process.version,
    fastify: packageVersion(ROOT, 'fastify'),
    jose: packageVersion(ROOT, 'jose'),
    '@node-rs/argon2': packageVersion(ROOT, '@node-rs/argon2'),
    'better-auth': packageVersion(BENCH_DIR, 'better-auth'),
    '@better-auth/api-key': packageVersion(BENCH_DIR, '@better-auth/api-key'),
    'oidc-provider': packageVersion(BENCH_DIR, 'oidc-provider'),
    wrk: wrkVersion(),
  };
}
