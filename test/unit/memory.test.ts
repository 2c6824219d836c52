// The collection the server runs once it listens: it returns the young generation start-up
// grew, and leaves no `gc` function behind.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { releaseStartupMemory } from '../../src/memory.ts';

const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

test('after start-up garbage, one call gives the young generation back and exposes no gc', () => {
  let keep: { i: number; s: string }[] = [];
  for (let i = 0; i < 3_000_000; i++) {
    keep.push({ i, s: `x${i}` });
    if (keep.length > 50_000) keep = []; // survivors make V8 grow the young generation
  }
  const grown = newSpace();
  releaseStartupMemory();
  assert.ok(newSpace() < grown, `young generation ${grown} -> ${newSpace()} bytes`);
  assert.equal(vm.runInNewContext('typeof gc'), 'undefined', 'contexts made afterwards have no gc');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});
