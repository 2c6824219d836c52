// The benchmark harness still works: `npm run bench -- --smoke` applies a bundle, starts the real
// server, puts it under load for about a second and prints one result row. The full benchmark is
// not part of npm test; no figure here is compared with any speed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseOptions, parseSize } from '../bench/lib/options.ts';
import { checkTargets, buildRows } from '../bench/lib/report.ts';
import { summarize } from '../bench/profile.ts';
import { wrkScript } from '../bench/lib/load.ts';
import { SCENARIOS } from '../bench/scenarios.ts';
import type { WindowResult } from '../bench/lib/measure.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('bench --smoke', () => {
  test('starts Gatehouse, loads it and prints exactly one result row', () => {
    const out = spawnSync(process.execPath, ['bench/run.ts', '--smoke', '--no-install'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    });
    assert.equal(out.status, 0, `bench --smoke failed:\n${out.stderr}\n${out.stdout}`);
    const lines = out.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `expected one row, got:\n${out.stdout}`);
    const row = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.equal(row.id, 'gatehouse-sqlite/scopes-apikey');
    assert.equal(row.status, 'ok');
    assert.equal(row.errors, 0, 'every request was answered with 2xx');
    assert.ok(typeof row.rps === 'number' && row.rps > 0, 'requests were served');
    assert.ok((row.p99Ms as number) >= (row.p50Ms as number));
    assert.ok((row.rssPeakBytes as number) > 0, 'the server RSS was sampled');
    assert.match(String(row.generator), /^(wrk|node)$/);
  });
});

describe('bench internals', () => {
  test('options: modes, sizes and bad values', () => {
    assert.equal(parseOptions([]).mode, 'full');
    assert.equal(parseOptions([]).rounds, 3);
    assert.equal(parseOptions(['--quick']).durationS, 1);
    assert.deepEqual(parseOptions(['--scale', '--sizes', '1k,2M']).sizes, [1_000, 2_000_000]);
    assert.equal(parseSize('100k'), 100_000);
    assert.throws(() => parseOptions(['--rounds', '0']), /--rounds/);
    assert.throws(() => parseOptions(['--bogus']), /unknown option/);
  });

  test('every Gatehouse path runs on every backend and names an existing ceiling', () => {
    const ids = new Set(SCENARIOS.map((s) => s.id));
    assert.equal(ids.size, SCENARIOS.length, 'scenario ids are unique');
    for (const s of SCENARIOS) {
      if (s.ceiling) assert.ok(ids.has(s.ceiling), `${s.id}: unknown ceiling ${s.ceiling}`);
      for (const p of s.peers ?? []) assert.ok(ids.has(p), `${s.id}: unknown peer ${p}`);
    }
    assert.ok(ids.has('gatehouse-sqlite/scopes-apikey') && ids.has('gatehouse-postgres/scopes-apikey'));
  });

  test('a pool request script hands each request its own line, continuing after an offset', () => {
    const script = wrkScript({
      method: 'POST',
      path: '/api/auth/session/refresh',
      headers: { 'Content-Type': 'application/json' },
      body: '{"refresh_token":"@ITEM@"}',
      pool: { file: '/tmp/pool.txt', size: 10, singleUse: true },
    });
    assert.match(script, /function request\(\)/);
    assert.match(script, /local skip = tonumber\(args\[1\]\) or 0/);
    assert.match(script, /WRK_RESULT/);
    const fixed = wrkScript({ method: 'GET', path: '/x', headers: { Authorization: 'Apikey ]]' } });
    assert.doesNotMatch(fixed, /function request\(\)/, 'a fixed request stays static');
    assert.match(fixed, /\[=\[Apikey \]\]\]=\]/, 'values are quoted so they cannot end the Lua string');
  });

  test('targets: ratios against the ceiling and the peer are marked met or not met', () => {
    const w = (rps: number, p99Ms = 2): WindowResult[] => [
      { round: 1, rps, cpuUsPerRequest: 1e6 / rps, capacityRps: rps, serverOnlyCpuUsPerRequest: 1e6 / rps, p50Ms: 1, p90Ms: 1, p99Ms, maxMs: 3, requests: 1, non2xx: 0, socketErrors: 0, reused: 0, rssPeakBytes: 1, foreignCores: 0, stealShare: 0, load1: 0, hostSlowdown: 1, repeated: false, firstSight: null },
    ];
    const windows = new Map<string, WindowResult[]>([
      ['ceiling/floor', w(80_000)],
      ['peer/better-auth-apikey', w(2_000)],
      ['gatehouse-sqlite/scopes-apikey', w(30_000, 12)],
    ]);
    const rows = buildRows(SCENARIOS, windows, new Map());
    const row = rows.find((r) => r.id === 'gatehouse-sqlite/scopes-apikey');
    assert.equal(row?.peer?.ratio, 15);
    const checks = checkTargets(rows);
    const floor = checks.find((c) => c.target.includes('50% of the bare-Fastify floor'));
    assert.equal(floor?.met, false, '30k of 80k is under half');
    assert.equal(checks.find((c) => c.target.includes("10× better-auth"))?.met, true);
    assert.equal(checks.find((c) => c.target === 'p99 ≤ 10 ms: gatehouse-sqlite/scopes-apikey')?.met, false);
    assert.equal(checks.find((c) => c.target.includes('oidc-provider'))?.met, null, 'unmeasured targets say so');
  });

  test('profile summary: self time per frame, idle left out, within the window', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('authenticate', `file://${ROOT}/src/services/authenticate.ts`), children: [3] },
        { id: 3, callFrame: frame('digest', 'node:internal/crypto/hash') },
        { id: 4, callFrame: frame('(idle)') },
      ],
      startTime: 0,
      endTime: 100,
      samples: [3, 3, 2, 4, 3],
      timeDeltas: [10, 10, 10, 10, 10],
    };
    const all = summarize(profile);
    assert.equal(all.top[0]?.frame, 'digest node:internal/crypto/hash:1');
    assert.equal(all.idleMs, 0.01);
    assert.equal(all.gatehouseInclusive[0]?.frame, 'authenticate src/services/authenticate.ts:1');
    assert.equal(all.gatehouseInclusive[0]?.share, 1, 'every busy sample is under authenticate');
    const windowed = summarize(profile, 25, 35);
    assert.equal(windowed.windowed, true);
    assert.deepEqual(windowed.top.map((f) => f.frame), ['authenticate src/services/authenticate.ts:1']);
  });
});
