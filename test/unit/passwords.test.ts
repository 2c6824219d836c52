// argon2id password hashing: PHC strings, verification, rehash detection, bounded concurrency.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isArgon2idPhc, OWASP_ARGON2ID, PasswordHasher, Semaphore } from '../../src/auth/passwords.ts';

const FAST = { memoryKiB: 1024, iterations: 1, parallelism: 1 };

describe('PasswordHasher', () => {
  test('by default hashes with argon2id, m=19456, t=2, p=1, as a PHC string that verifies', async () => {
    const hasher = new PasswordHasher();
    const phc = await hasher.hash('correct horse battery staple');
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    assert.ok(isArgon2idPhc(phc));
    assert.equal(await hasher.verify(phc, 'correct horse battery staple'), true);
    assert.equal(await hasher.verify(phc, 'correct horse battery stapler'), false);
    assert.equal(hasher.needsRehash(phc), false);
    assert.deepEqual(OWASP_ARGON2ID, { memoryKiB: 19456, iterations: 2, parallelism: 1 });
  });

  test('each hash has its own salt', async () => {
    const hasher = new PasswordHasher(FAST);
    const [a, b] = await Promise.all([hasher.hash('same'), hasher.hash('same')]);
    assert.notEqual(a, b);
    assert.equal(await hasher.verify(a, 'same'), true);
    assert.equal(await hasher.verify(b, 'same'), true);
  });

  test('wrong passwords, empty passwords and unicode', async () => {
    const hasher = new PasswordHasher(FAST);
    const phc = await hasher.hash('pässwörd ✓');
    assert.equal(await hasher.verify(phc, 'pässwörd ✓'), true);
    assert.equal(await hasher.verify(phc, 'passwort ✓'), false);
    assert.equal(await hasher.verify(phc, ''), false);
  });

  test('a malformed or foreign hash never verifies (and does not throw)', async () => {
    const hasher = new PasswordHasher(FAST);
    const good = await hasher.hash('pw');
    const malformed = [
      '',
      'pw',
      'plain-text-password',
      '$argon2id$',
      '$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA',
      '$2b$10$abcdefghijklmnopqrstuuJ3bnZJZ8p5d6Qm1oKc0Zl8xZyq0l2K', // bcrypt
      good.replace('$argon2id$', '$argon2d$'),
      good.slice(0, -10) + '!!!!!!!!!!', // not base64
      good.replace(/\$[^$]+$/, '$AAAA'), // a hash of the wrong length
      good.replace(/m=\d+/, 'm=abc'),
    ];
    for (const phc of malformed) {
      assert.equal(await hasher.verify(phc, 'pw'), false, phc);
    }
    assert.equal(isArgon2idPhc(good), true);
    assert.equal(isArgon2idPhc(malformed[4] as string), false);
  });

  test('needsRehash: weaker parameters or another algorithm', async () => {
    const strong = new PasswordHasher({ memoryKiB: 2048, iterations: 2, parallelism: 1 });
    const weakHash = await new PasswordHasher(FAST).hash('pw');
    assert.equal(strong.needsRehash(weakHash), true, 'less memory and fewer iterations');
    assert.equal(strong.needsRehash(weakHash.replace('m=1024', 'm=2048')), true, 'fewer iterations');
    assert.equal(strong.needsRehash(weakHash.replace('m=1024,t=1', 'm=2048,t=2')), false);
    assert.equal(strong.needsRehash(weakHash.replace('m=1024,t=1', 'm=4096,t=3')), false, 'stronger is kept');
    assert.equal(strong.needsRehash('$argon2i$v=19$m=2048,t=2,p=1$c2FsdHNhbHQ$aGFzaA'), true, 'argon2i');
    assert.equal(strong.needsRehash('garbage'), true);
  });

  test('verifyDummy always answers false', async () => {
    const hasher = new PasswordHasher(FAST);
    assert.equal(await hasher.verifyDummy('gatehouse-dummy-password'), false);
    assert.equal(await hasher.verifyDummy('anything'), false);
  });

  test('no more hashes run at once than the concurrency allows', async () => {
    const hasher = new PasswordHasher(FAST, 2);
    const work = Array.from({ length: 6 }, (_, i) => hasher.hash(`pw-${i}`));
    assert.equal(hasher.running, 2);
    assert.equal(hasher.queued, 4);
    const hashes = await Promise.all(work);
    assert.equal(hasher.running, 0);
    assert.equal(hasher.queued, 0);
    for (const [i, phc] of hashes.entries()) assert.equal(await hasher.verify(phc, `pw-${i}`), true);
  });
});

describe('Semaphore', () => {
  function deferred() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }

  test('runs at most `limit` tasks at once, in arrival order, and releases on failure', async () => {
    const sem = new Semaphore(2);
    const gates = Array.from({ length: 5 }, deferred);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const tasks = gates.map((gate, i) =>
      sem.run<number | string>(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
        if (i === 1) throw new Error('task 1 fails');
        return i;
      }).catch(() => 'failed'),
    );
    const settle = () => new Promise((r) => setImmediate(r));
    await settle();
    assert.deepEqual(started, [0, 1]);
    assert.equal(sem.active, 2);
    assert.equal(sem.waiting, 3);

    gates[1]?.resolve(); // fails, but its slot goes to the next in line
    await settle();
    assert.deepEqual(started, [0, 1, 2]);
    // a newcomer does not jump the queue
    const late = sem.run(async () => {
      started.push(99);
      return 99;
    });
    gates[0]?.resolve();
    await settle();
    assert.deepEqual(started, [0, 1, 2, 3]);
    for (const g of gates) g.resolve();
    assert.deepEqual(await Promise.all([...tasks, late]), [0, 'failed', 2, 3, 4, 99]);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 99]);
    assert.equal(peak, 2);
    assert.equal(sem.active, 0);
    assert.equal(sem.waiting, 0);
  });

  test('a limit below one still lets one task run', async () => {
    const sem = new Semaphore(0);
    assert.equal(await sem.run(async () => 'ran'), 'ran');
  });
});
