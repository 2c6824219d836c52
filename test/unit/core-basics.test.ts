// Errors as data, injected time, and opening a store from its URL.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as errors from '../../src/core/errors.ts';
import { ManualClock, naiveIsoSeconds, systemClock } from '../../src/core/time.ts';
import { openStore, redactUrl } from '../../src/store/open.ts';

describe('errors', () => {
  const samples: errors.GatehouseError[] = [
    new errors.InvalidCredentialsError(),
    new errors.AccountNotAuthorizedError('disabled'),
    new errors.AccountNotAuthorizedError('no_roles'),
    new errors.TokenExpiredError(),
    new errors.InvalidTokenError(),
    new errors.InvalidApiKeyError(),
    new errors.SessionExpiredError(),
    new errors.RefreshTokenReusedError('sid'),
    new errors.NotAuthenticatedError(),
    new errors.InsufficientScopeError(['write:queue:edit'], ['read:status']),
    new errors.ScopesNotSubsetError(['a'], ['b']),
    new errors.NotFoundError('user', 'bob'),
    new errors.ConflictError('taken'),
    new errors.ValidationError('bad', 'users[0]'),
    new errors.StoreUnavailableError(new Error('disk')),
  ];

  test('every error has a stable code, its class name, and is an Error', () => {
    const codes = new Set<string>();
    for (const e of samples) {
      assert.ok(e instanceof Error);
      assert.ok(e instanceof errors.GatehouseError);
      assert.match(e.code, /^[a-z_]+$/);
      assert.equal(e.name, e.constructor.name);
      assert.ok(e.message.length > 0);
      codes.add(e.code);
    }
    assert.equal(codes.size, samples.length - 1, 'one code per class (AccountNotAuthorizedError appears twice)');
  });

  test('errors carry their data', () => {
    assert.equal(new errors.AccountNotAuthorizedError('no_roles').reason, 'no_roles');
    assert.equal(new errors.RefreshTokenReusedError('s1').sessionId, 's1');
    const scope = new errors.InsufficientScopeError(['x'], ['y']);
    assert.deepEqual([scope.required, scope.had], [['x'], ['y']]);
    const subset = new errors.ScopesNotSubsetError(['a'], ['b']);
    assert.deepEqual([subset.requested, subset.allowed], [['a'], ['b']]);
    const nf = new errors.NotFoundError('user', 'bob');
    assert.deepEqual([nf.kind, nf.id, nf.message], ['user', 'bob', 'user bob not found']);
    assert.equal(new errors.ValidationError('bad', 'users[0]').path, 'users[0]');
    assert.equal(new errors.ValidationError('bad').path, '');
    const cause = new Error('disk');
    assert.equal(new errors.StoreUnavailableError(cause).cause, cause);
    assert.equal(new errors.InvalidCredentialsError().message, 'Incorrect username or password');
  });
});

describe('time', () => {
  test('a ManualClock moves only when told', () => {
    const clock = new ManualClock(1000);
    assert.equal(clock.now(), 1000);
    clock.advance(500);
    assert.equal(clock.now(), 1500);
    clock.set(42);
    assert.equal(clock.now(), 42);
    assert.equal(new ManualClock().now(), Date.UTC(2026, 0, 1));
  });

  test('the system clock is the real time', () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
  });

  test('naiveIsoSeconds prints UTC without fraction or zone', () => {
    assert.equal(naiveIsoSeconds(Date.UTC(2026, 10, 23, 12, 34, 56, 789)), '2026-11-23T12:34:56');
    assert.equal(naiveIsoSeconds(0), '1970-01-01T00:00:00');
  });
});

describe('openStore', () => {
  test('sqlite: URLs open a working store, also :memory: and absolute sqlite:/// paths', async () => {
    const memory = await openStore('sqlite::memory:');
    assert.equal(memory.backend, 'sqlite');
    await memory.migrate();
    await memory.ping();
    await memory.close();

    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-open-'));
    try {
      const path = join(dir, 'nested', 'g.db');
      const file = await openStore(`sqlite://${path}`, { pollIntervalMs: 0 });
      await file.migrate();
      await file.close();
      assert.ok(existsSync(path), 'sqlite:///abs/path names /abs/path, creating its folder');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a sqlite: URL without a path, or an unknown scheme, is refused without showing a password', async () => {
    await assert.rejects(openStore('sqlite:'), errors.ValidationError);
    await assert.rejects(openStore('mysql://admin:hunter2@db/gatehouse'), (error: Error) => {
      assert.ok(error instanceof errors.ValidationError);
      assert.ok(!error.message.includes('hunter2'), error.message);
      assert.ok(error.message.includes('mysql://admin:***@db/gatehouse'), error.message);
      return true;
    });
  });

  test('redactUrl hides only the password', () => {
    assert.equal(redactUrl('postgres://gh:s3cret@db:5432/gatehouse'), 'postgres://gh:***@db:5432/gatehouse');
    assert.equal(redactUrl('postgres://gh@db/gatehouse'), 'postgres://gh@db/gatehouse');
    assert.equal(redactUrl('sqlite:./data/gatehouse.db'), 'sqlite:./data/gatehouse.db');
  });
});
