// WAL checkpoints on a thread of their own. A checkpoint copies the WAL's pages back into the
// database file and waits for the disk twice (fsync of the WAL, then of the database). Done by
// the connection that serves requests (SQLite's default, every 1000 pages), that wait stops
// the event loop: on a refresh-heavy load it was most of what a commit cost. Here a second
// connection, in a worker thread, runs PASSIVE checkpoints every `intervalMs`: they take no lock
// that writers or readers wait for, and the serving connection only writes. Once a checkpoint
// has copied everything, the serving connection's next commit starts the WAL over from its
// beginning, so the file stays small.
//
// The serving connection keeps a high auto-checkpoint threshold of its own as a safety net, for
// a checkpointer that has stopped or cannot keep up.

import { Worker } from 'node:worker_threads';

/** The worker's program (CommonJS, evaluated in the thread). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = 0');
db.exec('PRAGMA synchronous = NORMAL');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let stopped = false;
const timer = setInterval(() => {
  if (stopped) return;
  try {
    const row = checkpoint.get();
    parentPort.postMessage({ kind: 'checkpoint', log: Number(row.log), checkpointed: Number(row.checkpointed) });
  } catch (error) {
    parentPort.postMessage({ kind: 'error', message: String(error && error.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop' || stopped) return;
  stopped = true;
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export interface CheckpointReport {
  /** Frames in the WAL when the checkpoint ran. */
  readonly log: number;
  /** Frames of it now in the database file. */
  readonly checkpointed: number;
}

export interface Checkpointer {
  /** Stops the thread and closes its connection; resolves once the thread has exited. */
  stop(): Promise<void>;
}

export function startCheckpointer(
  path: string,
  intervalMs: number,
  events: { onCheckpoint?(report: CheckpointReport): void; onFailure?(error: Error): void } = {},
): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs } });
  worker.unref(); // never what keeps a process alive
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: { kind: string; log?: number; checkpointed?: number; message?: string }) => {
    if (message.kind === 'checkpoint') {
      events.onCheckpoint?.({ log: message.log ?? 0, checkpointed: message.checkpointed ?? 0 });
    }
  });
  worker.on('error', (error) => events.onFailure?.(error));
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= (async () => {
        worker.postMessage('stop');
        const timeout = setTimeout(() => void worker.terminate(), 2000);
        await exited;
        clearTimeout(timeout);
      })();
      return stopping;
    },
  };
}
