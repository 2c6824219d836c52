// Batched last-use times of API keys: written in chunks that give the event loop back in between,
// merged into what readers see until they are in the store, and kept when a write fails.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActivityRecorder } from '../../src/services/activity.ts';
import type { Store } from '../../src/store/store.ts';

/**
 * A store that records touchApiKeys calls (and can fail one). Each call leaves a setImmediate
 * behind; `yielded[i]` says whether the one of call i had run when call i+1 came, that is
 * whether the event loop had a turn between the two chunks.
 */
function recordingStore(options: { failOnCall?: number } = {}) {
  const calls: Map<string, number>[] = [];
  const written = new Map<string, number>();
  const marks: { ran: boolean }[] = [];
  const yielded: boolean[] = [];
  const store = {
    async touchApiKeys(activity: ReadonlyMap<string, number>) {
      const previous = marks.at(-1);
      if (previous) yielded.push(previous.ran);
      const mark = { ran: false };
      marks.push(mark);
      setImmediate(() => (mark.ran = true));
      calls.push(new Map(activity));
      if (options.failOnCall === calls.length) throw new Error('database unavailable');
      for (const [id, at] of activity) written.set(id, Math.max(written.get(id) ?? 0, at));
    },
  } as unknown as Store;
  return { store, calls, written, yielded };
}

test('a large batch is written completely, in several chunks, with the event loop let in between', async () => {
  const rec = recordingStore();
  const activity = new ActivityRecorder(rec.store, 3_600_000);
  try {
    for (let i = 0; i < 5000; i++) activity.record(`key-${i}`, 1000 + i);
    await activity.flush();
    assert.equal(rec.written.size, 5000);
    assert.equal(rec.written.get('key-4999'), 5999);
    assert.ok(rec.calls.length > 1, `written in ${rec.calls.length} chunk(s)`);
    assert.ok(rec.calls.every((c) => c.size <= 2048));
    assert.equal(rec.calls.reduce((n, c) => n + c.size, 0), 5000, 'each key once');
    assert.ok(rec.yielded.length > 0 && rec.yielded.every(Boolean), 'the event loop had a turn between every two chunks');
    assert.equal(activity.pending('key-1'), undefined, 'nothing pending once written');
  } finally {
    await activity.close();
  }
});

test('a time recorded while its batch is being written is seen by readers and written next time', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const written = new Map<string, number>();
  const store = {
    async touchApiKeys(activity: ReadonlyMap<string, number>) {
      await gate;
      for (const [id, at] of activity) written.set(id, at);
    },
  } as unknown as Store;
  const activity = new ActivityRecorder(store, 3_600_000);
  activity.record('k', 100);
  const flushing = activity.flush();
  assert.equal(activity.pending('k'), 100, 'the batch being written still counts');
  activity.record('k', 200);
  assert.equal(activity.pending('k'), 200);
  release();
  await flushing;
  assert.equal(written.get('k'), 100);
  assert.equal(activity.pending('k'), 200);
  await activity.close(); // writes what is left
  assert.equal(written.get('k'), 200);
});

test('when a chunk fails, what was not written is kept for the next flush', async () => {
  const rec = recordingStore({ failOnCall: 2 });
  const activity = new ActivityRecorder(rec.store, 3_600_000);
  try {
    for (let i = 0; i < 3000; i++) activity.record(`key-${i}`, 1);
    await assert.rejects(activity.flush(), /database unavailable/);
    const first = rec.calls[0]?.size ?? 0;
    assert.equal(rec.written.size, first, 'the first chunk was written');
    for (let i = 0; i < 3000; i++) {
      if (!rec.written.has(`key-${i}`)) assert.equal(activity.pending(`key-${i}`), 1, `key-${i} is kept`);
    }
    await activity.flush();
    assert.equal(rec.written.size, 3000, 'and written by the next flush');
  } finally {
    await activity.close();
  }
});
