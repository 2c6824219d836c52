// Turning windows into the table: medians per scenario, ratios to ceilings and peers, the
// issue's targets marked met / not met, as text for the terminal and Markdown for BENCHMARKS.md.

import type { Scenario } from '../scenarios.ts';
import type { WindowResult } from './measure.ts';
import { fmtMiB, fmtMs, fmtRate, fmtRatio, median } from './util.ts';

export interface Row {
  readonly id: string;
  readonly label: string;
  readonly kind: Scenario['kind'];
  readonly path: string;
  readonly introspection: boolean;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly reason: string | null;
  readonly windows: readonly WindowResult[];
  readonly rps: number;
  /** Server CPU per request (µs) and its inverse, requests per CPU-second: medians of the rounds. */
  readonly cpuUsPerRequest: number;
  readonly capacityRps: number;
  /** The server process alone (without its PostgreSQL backends). */
  readonly serverOnlyCpuUsPerRequest: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** non-2xx responses + socket errors + reused single-use credentials, over all windows. */
  readonly errors: number;
  readonly rssPeakBytes: number;
  readonly foreignCoresMax: number;
  /** `ratio` compares CPU cost (capacity); `throughputRatio` the measured req/s. */
  readonly ceiling: Comparison | null;
  readonly peer: Comparison | null;
}

export interface Comparison {
  readonly id: string;
  readonly ratio: number | null;
  readonly throughputRatio: number | null;
}

const fmtUs = (us: number) => (Number.isFinite(us) ? (us >= 100 ? us.toFixed(0) : us.toFixed(1)) : '—');

export function buildRows(
  scenarios: readonly Scenario[],
  windows: ReadonlyMap<string, WindowResult[]>,
  problems: ReadonlyMap<string, { status: 'skipped' | 'failed'; reason: string }>,
): Row[] {
  const base = new Map<string, Row>();
  for (const s of scenarios) {
    const w = windows.get(s.id) ?? [];
    const problem = problems.get(s.id);
    const status = w.length > 0 ? 'ok' : (problem?.status ?? 'skipped');
    base.set(s.id, {
      id: s.id,
      label: s.label,
      kind: s.kind,
      path: s.path,
      introspection: s.introspection,
      status,
      reason: problem?.reason ?? null,
      windows: w,
      rps: median(w.map((x) => x.rps)),
      cpuUsPerRequest: median(w.map((x) => x.cpuUsPerRequest)),
      capacityRps: median(w.map((x) => x.capacityRps)),
      serverOnlyCpuUsPerRequest: median(w.map((x) => x.serverOnlyCpuUsPerRequest)),
      p50Ms: median(w.map((x) => x.p50Ms)),
      p99Ms: median(w.map((x) => x.p99Ms)),
      errors: w.reduce((sum, x) => sum + x.non2xx + x.socketErrors + x.reused, 0),
      rssPeakBytes: Math.max(0, ...w.map((x) => x.rssPeakBytes)),
      foreignCoresMax: Math.max(0, ...w.map((x) => x.foreignCores)),
      ceiling: null,
      peer: null,
    });
  }
  const ok = (id: string) => {
    const r = base.get(id);
    return r && r.status === 'ok' && r.rps > 0 && r.capacityRps > 0 ? r : null;
  };
  const compare = (row: Row, other: Row | null, id: string): Comparison => ({
    id,
    ratio: other ? row.capacityRps / other.capacityRps : null,
    throughputRatio: other ? row.rps / other.rps : null,
  });
  return scenarios.map((s) => {
    const row = base.get(s.id) as Row;
    if (row.status !== 'ok') return row;
    const ceiling = s.ceiling ? compare(row, ok(s.ceiling), s.ceiling) : null;
    let peer: Comparison | null = null;
    const peers = (s.peers ?? []).map((id) => ok(id)).filter((p): p is Row => p !== null);
    if (peers.length) {
      const best = peers.reduce((a, b) => (b.capacityRps > a.capacityRps ? b : a));
      peer = compare(row, best, best.id);
    } else if (s.peers?.length) {
      peer = { id: s.peers[0] as string, ratio: null, throughputRatio: null };
    }
    return { ...row, ceiling, peer };
  });
}

// ---- targets -------------------------------------------------------------------------------------

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** null: could not be measured in this run (see `measured`). */
  readonly met: boolean | null;
}

export function checkTargets(rows: readonly Row[], backend = 'gatehouse-sqlite'): TargetCheck[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ok = (id: string) => {
    const r = byId.get(id);
    return r && r.status === 'ok' && r.rps > 0 && r.capacityRps > 0 ? r : null;
  };
  const why = (...ids: string[]) =>
    ids
      .map((id) => byId.get(id))
      .filter((r): r is Row => r !== undefined && r.status !== 'ok')
      .map((r) => `${r.id}: ${r.reason ?? r.status}`)
      .join('; ') || 'not selected in this run';
  const ratio = (target: string, a: string, b: string, min: number, unit: 'of' | 'x'): TargetCheck => {
    const ra = ok(a);
    const rb = ok(b);
    if (!ra || !rb) return { target, measured: `not measured (${why(a, b)})`, met: null };
    const value = ra.capacityRps / rb.capacityRps;
    const raw = ra.rps / rb.rps;
    const show = (v: number) => (unit === 'of' ? `${(v * 100).toFixed(0)}%` : `${v.toFixed(2)}×`);
    const measured =
      `${show(value)} by CPU per request (${fmtUs(ra.cpuUsPerRequest)} vs ${fmtUs(rb.cpuUsPerRequest)} µs); ` +
      `${show(raw)} by req/s (${fmtRate(ra.rps)} vs ${fmtRate(rb.rps)})`;
    return { target, measured, met: value >= min };
  };
  const g = (path: string) => `${backend}/${path}`;
  const checks: TargetCheck[] = [
    ratio('API-key introspection ≥ 50% of the bare-Fastify floor', g('scopes-apikey'), 'ceiling/floor', 0.5, 'of'),
    ratio("API-key introspection ≥ 10× better-auth's API-key verify", g('scopes-apikey'), 'peer/better-auth-apikey', 10, 'x'),
    ratio('JWT introspection ≥ 100% of the Fastify+jose verify ceiling', g('scopes-jwt'), 'ceiling/jose', 1, 'of'),
    ratio("JWT introspection ≥ 1.5× oidc-provider's introspection", g('scopes-jwt'), 'peer/oidc-introspection', 1.5, 'x'),
    ratio('Login ≥ 90% of the argon2id ceiling', g('login'), 'ceiling/argon2', 0.9, 'of'),
    ratio('Refresh rotation ≥ 70% of the refresh ceiling', g('refresh'), 'ceiling/refresh', 0.7, 'of'),
  ];
  for (const r of rows) {
    if (!r.id.startsWith(`${backend}/`) || !r.introspection) continue;
    if (r.status !== 'ok') {
      checks.push({ target: `p99 ≤ 10 ms: ${r.id}`, measured: `not measured (${r.reason ?? r.status})`, met: null });
    } else {
      checks.push({ target: `p99 ≤ 10 ms: ${r.id}`, measured: `p99 ${fmtMs(r.p99Ms)} ms`, met: r.p99Ms <= 10 });
    }
  }
  for (const path of ['scopes-jwt', 'scopes-apikey']) {
    const check = ratio(`PostgreSQL ≥ 80% of SQLite: ${path}`, `gatehouse-postgres/${path}`, g(path), 0.8, 'of');
    const pgRow = ok(`gatehouse-postgres/${path}`);
    checks.push(
      pgRow && check.met !== null
        ? { ...check, measured: `${check.measured}; the Gatehouse process alone: ${fmtUs(pgRow.serverOnlyCpuUsPerRequest)} µs` }
        : check,
    );
  }
  return checks;
}

// ---- formatting ----------------------------------------------------------------------------------

export const COLUMNS = ['scenario', 'req/s', 'CPU µs/req', 'p50 ms', 'p99 ms', 'errors', 'RSS MiB', 'vs ceiling', 'vs best peer', 'other CPU'];

function fmtComparison(c: Comparison | null, prefix: RegExp): string {
  if (!c) return '—';
  const name = c.id.replace(prefix, '');
  if (c.ratio === null) return `— ${name}`;
  return `${fmtRatio(c.ratio)} (${fmtRatio(c.throughputRatio)}) ${name}`;
}

export function rowCells(r: Row): string[] {
  if (r.status !== 'ok') return [r.id, r.status, '', '', '', '', '', '', '', r.reason ?? ''];
  return [
    r.id,
    fmtRate(r.rps),
    fmtUs(r.cpuUsPerRequest),
    fmtMs(r.p50Ms),
    fmtMs(r.p99Ms),
    String(r.errors),
    fmtMiB(r.rssPeakBytes),
    fmtComparison(r.ceiling, /^ceiling\//),
    fmtComparison(r.peer, /^peer\//),
    `${r.foreignCoresMax.toFixed(2)} cores`,
  ];
}

export function textTable(header: readonly string[], cells: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => (i === 0 || i === row.length - 1 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export function markdownTable(header: readonly string[], cells: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...cells.map((row) => `| ${row.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function targetCells(checks: readonly TargetCheck[]): string[][] {
  return checks.map((c) => [c.target, c.met === null ? 'not measured' : c.met ? 'met' : 'NOT met', c.measured]);
}
