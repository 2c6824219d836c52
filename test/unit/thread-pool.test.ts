// libuv's pool is sized so that password hashes, each holding a thread for tens of ms, never
// take every thread from the other work that runs there.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { threadPoolSize } from '../../src/server.ts';

test('the pool has room for every concurrent password hash and four threads more', () => {
  assert.equal(threadPoolSize({ passwordConcurrency: 2 }, {}), 6);
  assert.equal(threadPoolSize({ passwordConcurrency: 16 }, {}), 20);
  assert.equal(threadPoolSize({ passwordConcurrency: 256 }, {}), 260);
});

test('an explicit UV_THREADPOOL_SIZE is kept; a value that is not a positive integer is not', () => {
  assert.equal(threadPoolSize({ passwordConcurrency: 2 }, { UV_THREADPOOL_SIZE: '3' }), 3);
  assert.equal(threadPoolSize({ passwordConcurrency: 2 }, { UV_THREADPOOL_SIZE: '' }), 6);
  assert.equal(threadPoolSize({ passwordConcurrency: 2 }, { UV_THREADPOOL_SIZE: 'many' }), 6);
  assert.equal(threadPoolSize({ passwordConcurrency: 2 }, { UV_THREADPOOL_SIZE: '0' }), 6);
});
