// Signing keys in the store: created on first use, rotated after the interval, old tokens still
// verify until they have expired.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidTokenError, TokenExpiredError } from '../../src/core/errors.ts';
import { ManualClock } from '../../src/core/time.ts';
import { KeyService } from '../../src/services/keys.ts';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const OPTS = { issuer: 'gatehouse', maxTokenTtlMs: 15 * MIN, rotationIntervalMs: 30 * DAY };

async function setup() {
  const store = openSqliteStore({ path: ':memory:' });
  await store.migrate();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const keys = new KeyService(store, clock, OPTS);
  return { store, clock, keys, close: () => (keys.close(), store.close()) };
}

test('ensureSigningKey creates a key once, and a new one only after the rotation interval', async () => {
  const { store, clock, keys, close } = await setup();
  try {
    assert.deepEqual(await store.listSigningKeys(), []);
    await keys.ensureSigningKey();
    const [first] = await store.listSigningKeys();
    assert.ok(first);
    assert.equal(first.retiredAt, null);
    assert.equal((await keys.ring()).signingKid, first.kid);

    clock.advance(30 * DAY - 1);
    await keys.ensureSigningKey();
    assert.equal((await store.listSigningKeys()).length, 1, 'not due yet');

    clock.advance(1);
    await keys.ensureSigningKey();
    const after = await store.listSigningKeys();
    assert.equal(after.length, 2);
    assert.deepEqual(after[0], { ...first, retiredAt: clock.now() });
    assert.equal(after[1]?.retiredAt, null);
    assert.equal((await keys.ring()).signingKid, after[1]?.kid);
  } finally {
    await close();
  }
});

test('after a rotation, tokens of the old key verify until they expire; the key then leaves the JWKS', async () => {
  const { store, clock, keys, close } = await setup();
  try {
    await keys.ensureSigningKey();
    const oldKid = (await keys.ring()).signingKid;
    clock.advance(30 * DAY - MIN);
    const token = await (await keys.ring()).sign({ type: 'access' }, 'p', clock.now(), 900); // expires in 15 min

    clock.advance(MIN);
    await keys.ensureSigningKey(); // rotation: the old key retires now
    const retiredAt = clock.now();
    const ring = await keys.ringFor(token);
    assert.notEqual(ring.signingKid, oldKid);
    assert.equal((await ring.verify(token, clock.now(), 'access')).sub, 'p');
    assert.deepEqual(
      ring.jwks().keys.map((k) => k.kid).sort(),
      [oldKid, ring.signingKid].sort(),
    );

    clock.advance(14 * MIN - 1000);
    assert.equal((await (await keys.ringFor(token)).verify(token, clock.now(), 'access')).sub, 'p');
    clock.advance(1000);
    await assert.rejects((await keys.ringFor(token)).verify(token, clock.now(), 'access'), TokenExpiredError);

    clock.set(retiredAt + 15 * MIN);
    const later = await keys.ring();
    assert.deepEqual(
      later.jwks().keys.map((k) => k.kid),
      [later.signingKid],
      'the retired key is no longer published',
    );
    await assert.rejects(later.verify(token, clock.now(), 'access'), InvalidTokenError);

    // the next rotation deletes the long-retired key from the store
    clock.advance(30 * DAY);
    await keys.ensureSigningKey();
    const stored = await store.listSigningKeys();
    assert.equal(stored.length, 2);
    assert.ok(!stored.some((k) => k.kid === oldKid));
  } finally {
    await close();
  }
});

test('a token signed before a rotation verifies right after it', async () => {
  const { clock, keys, close } = await setup();
  try {
    await keys.ensureSigningKey();
    const token = await (await keys.ring()).sign({ type: 'access' }, 'p', clock.now(), 900);
    clock.advance(30 * DAY - 5 * MIN);
    const token2 = await (await keys.ring()).sign({ type: 'access' }, 'q', clock.now(), 900);
    clock.advance(5 * MIN);
    await keys.ensureSigningKey();
    const ring = await keys.ringFor(token2);
    assert.equal((await ring.verify(token2, clock.now(), 'access')).sub, 'q');
    assert.equal(ring.jwks().keys.length, 2);
    await assert.rejects(ring.verify(token, clock.now(), 'access'), TokenExpiredError);
  } finally {
    await close();
  }
});

test('several services starting at once on one store make one signing key', async () => {
  const { store, clock, close } = await setup();
  const services = Array.from({ length: 3 }, () => new KeyService(store, clock, OPTS));
  try {
    await Promise.all(services.map((s) => s.ensureSigningKey()));
    const stored = await store.listSigningKeys();
    assert.equal(stored.length, 1);
    for (const s of services) assert.equal((await s.ring()).signingKid, stored[0]?.kid);
  } finally {
    for (const s of services) s.close();
    await close();
  }
});

test('a key made by another service is picked up through the change event', async () => {
  const { store, clock, keys, close } = await setup();
  const other = new KeyService(store, clock, OPTS);
  try {
    await keys.ensureSigningKey();
    const before = (await keys.ring()).signingKid;
    const kid = await other.rotate();
    assert.notEqual(kid, before);
    assert.equal((await keys.ring()).signingKid, kid);
  } finally {
    other.close();
    await close();
  }
});

test('a ring load that started before a key change is not kept', async () => {
  const { store, clock, keys, close } = await setup();
  try {
    await keys.ensureSigningKey();
    // hold the store's listSigningKeys until a rotation has happened elsewhere
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slowStore = new Proxy(store, {
      get(target, name) {
        if (name === 'listSigningKeys') {
          return async () => {
            const rows = await target.listSigningKeys();
            await held;
            return rows;
          };
        }
        const value: unknown = Reflect.get(target, name, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const slow = new KeyService(slowStore, clock, OPTS);
    try {
      const loading = slow.ring();
      const rotatedKid = await new KeyService(store, clock, OPTS).rotate();
      release();
      await loading; // the stale result is returned to this caller only
      assert.equal((await slow.ring()).signingKid, rotatedKid);
    } finally {
      slow.close();
    }
  } finally {
    await close();
  }
});
