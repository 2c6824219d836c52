// What every benchmark server shares: how it announces itself to the harness and how it loads
// a peer package that lives in bench/node_modules (installed by the harness, not by the project).

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The line the harness waits for: the URL to load and the credentials the scenarios need. */
export function announce(url: string, fixtures: Record<string, string> = {}): void {
  process.stdout.write(`BENCH_READY ${JSON.stringify({ url, fixtures })}\n`);
}

/**
 * Imports a package from bench/node_modules. The specifier is resolved at run time, so the
 * project type-checks without the peers installed; callers describe the little they use.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the peers' types are not installed with the project
export async function importPeer(specifier: string): Promise<any> {
  const require = createRequire(join(BENCH_DIR, 'package.json'));
  let resolved: string;
  try {
    resolved = require.resolve(specifier);
  } catch {
    // ESM-only packages: resolve through import.meta.resolve from bench/.
    resolved = fileURLToPath(import.meta.resolve(specifier, pathToFileURL(join(BENCH_DIR, 'package.json')).href));
  }
  return import(pathToFileURL(resolved).href);
}

/** Stops the process on SIGTERM after `close` (the harness stops every server this way). */
export function closeOnTerm(close: () => Promise<void> | void): void {
  process.once('SIGTERM', () => {
    void Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  });
}

/** A JSON body of the Bluesky scopes shape: `{roles, scopes}`. */
export const SCOPES_SCHEMA = {
  type: 'object',
  properties: {
    roles: { type: 'array', items: { type: 'string' } },
    scopes: { type: 'array', items: { type: 'string' } },
  },
} as const;
