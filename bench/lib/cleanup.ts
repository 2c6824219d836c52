// Servers still running and temporary directories are removed on exit, including Ctrl-C.

import { cleanupTempDirs } from './util.ts';

const stops = new Set<() => Promise<unknown>>();

export function onCleanup(stop: () => Promise<unknown>): () => void {
  stops.add(stop);
  return () => stops.delete(stop);
}

export async function cleanupAll(): Promise<void> {
  for (const stop of [...stops]) {
    stops.delete(stop);
    await stop().catch(() => undefined);
  }
  cleanupTempDirs();
}

export function installSignalHandlers(): void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping servers and removing temporary files\n`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
