// Batched last-use times of API keys: written in chunks that give the event loop back in between,
// merged into what readers see until they are in the store, and kept when a write fails.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiKeyActivity, BatchedWrites, SessionActivity } from '../../src/services/activity.ts';
import { ManualClock } from '../../src/core/time.ts';
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
  const activity = new ApiKeyActivity(rec.store, new ManualClock(0), 3_600_000, 0);
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
  const activity = new ApiKeyActivity(store, new ManualClock(0), 3_600_000, 0);
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
  const activity = new ApiKeyActivity(rec.store, new ManualClock(0), 3_600_000, 0);
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

test('a key in constant use is written at most once per resolution; readers here always see the latest use', async () => {
  const rec = recordingStore();
  const clock = new ManualClock(0);
  const activity = new ApiKeyActivity(rec.store, clock, 3_600_000, 60_000);
  try {
    const use = (id: string) => activity.record(id, clock.now());
    use('busy');
    await activity.flush();
    assert.equal(rec.written.get('busy'), 0, 'a first use is written at the next flush');
    for (let s = 5; s < 60; s += 5) {
      clock.advance(5_000);
      use('busy');
      await activity.flush();
      assert.equal(rec.written.get('busy'), 0, `not moved again after ${s} s`);
      assert.equal(activity.pending('busy'), clock.now(), 'but seen at once by readers');
    }
    use('new');
    await activity.flush();
    assert.equal(rec.written.get('new'), 55_000, 'another key is not held back by the busy one');
    clock.advance(5_000); // 60 s after the first write
    await activity.flush();
    assert.equal(rec.written.get('busy'), 55_000, 'moved once the resolution has passed, to the latest use');
    assert.equal(activity.pending('busy'), undefined);
    assert.equal(rec.calls.filter((c) => c.has('busy')).length, 2, 'two writes of the busy key in a minute of use');
  } finally {
    await activity.close();
  }
});

test('close writes the times held back', async () => {
  const rec = recordingStore();
  const clock = new ManualClock(0);
  const activity = new ApiKeyActivity(rec.store, clock, 3_600_000, 60_000);
  activity.record('k', 0);
  await activity.flush();
  clock.advance(10_000);
  activity.record('k', 10_000);
  await activity.flush();
  assert.equal(rec.written.get('k'), 0);
  await activity.close();
  assert.equal(rec.written.get('k'), 10_000);
});

test('session refreshes are counted in memory, merged for readers, and added to the store in one write', async () => {
  const batches: Map<string, { count: number; at: number }>[] = [];
  const store = {
    async recordSessionRefreshes(refreshes: ReadonlyMap<string, { count: number; at: number }>) {
      batches.push(new Map(refreshes));
    },
  } as unknown as Store;
  const sessions = new SessionActivity(store, 3_600_000);
  sessions.refreshed('s1', 100);
  sessions.refreshed('s1', 300);
  sessions.refreshed('s1', 200); // out of order: the latest time is kept
  sessions.refreshed('s2', 50);
  assert.deepEqual(sessions.pending('s1'), { count: 3, at: 300 });
  await sessions.flush();
  assert.deepEqual(batches, [
    new Map([
      ['s1', { count: 3, at: 300 }],
      ['s2', { count: 1, at: 50 }],
    ]),
  ]);
  assert.equal(sessions.pending('s1'), undefined);
  sessions.refreshed('s1', 400);
  await sessions.close();
  assert.deepEqual(batches[1], new Map([['s1', { count: 1, at: 400 }]]));
});

test('a failed write of counters keeps them, added to what came meanwhile', async () => {
  let fail = true;
  const written: Map<string, number>[] = [];
  const batch = new BatchedWrites<number>(
    {
      async write(chunk) {
        if (fail) throw new Error('database unavailable');
        written.push(new Map(chunk));
      },
      merge: (older, newer) => older + newer,
    },
    3_600_000,
  );
  batch.record('s', 2);
  const failing = batch.flush();
  batch.record('s', 1); // recorded while the failing write is under way
  await assert.rejects(failing, /database unavailable/);
  assert.equal(batch.pending('s'), 3, 'nothing counted twice, nothing lost');
  fail = false;
  await batch.close();
  assert.deepEqual(written, [new Map([['s', 3]])]);
});
