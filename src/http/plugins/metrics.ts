// Prometheus metrics at /metrics: requests by route and status, latency, login failures,
// refresh-token reuse. One registry per app, so tests and several apps never share counters.
//
// Requests are counted on every response, so that count must cost next to nothing: each route
// and method has one plain record (per-status counts, bucket counts, sum) found by two map
// look-ups, and the Prometheus samples are made from the records only when /metrics is read.

import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Registry, type Metric } from 'prom-client';
import type { Services } from '../../services/index.ts';

const REQUESTS = 'gatehouse_http_requests_total';
const LATENCY = 'gatehouse_http_request_duration_seconds';
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

interface RouteRecord {
  readonly route: string;
  readonly method: string;
  /** Responses by status code. */
  readonly statuses: Map<number, number>;
  /** Observations per bucket (not cumulative); the last slot is above the highest bound. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/** Request counts and latencies per route template and method. */
export class RequestStats {
  /** route -> method -> record */
  readonly #records = new Map<string, Map<string, RouteRecord>>();

  observe(route: string, method: string, status: number, seconds: number): void {
    let byMethod = this.#records.get(route);
    if (!byMethod) {
      byMethod = new Map();
      this.#records.set(route, byMethod);
    }
    let record = byMethod.get(method);
    if (!record) {
      record = { route, method, statuses: new Map(), buckets: new Array<number>(BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      byMethod.set(method, record);
    }
    record.statuses.set(status, (record.statuses.get(status) ?? 0) + 1);
    let slot = 0;
    while (slot < BUCKETS.length && seconds > (BUCKETS[slot] as number)) slot++;
    (record.buckets[slot] as number)++;
    record.sum += seconds;
    record.count++;
  }

  *#each(): Generator<RouteRecord> {
    for (const byMethod of this.#records.values()) yield* byMethod.values();
  }

  requestSamples(): Sample[] {
    const out: Sample[] = [];
    for (const r of this.#each()) {
      for (const [status, value] of r.statuses) out.push({ labels: { route: r.route, method: r.method, status: String(status) }, value });
    }
    return out;
  }

  latencySamples(): Sample[] {
    const out: Sample[] = [];
    for (const r of this.#each()) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += r.buckets[i] as number;
        out.push({ labels: { route: r.route, method: r.method, le }, value: cumulative, metricName: `${LATENCY}_bucket` });
      });
      out.push({ labels: { route: r.route, method: r.method, le: '+Inf' }, value: r.count, metricName: `${LATENCY}_bucket` });
      out.push({ labels: { route: r.route, method: r.method }, value: r.sum, metricName: `${LATENCY}_sum` });
      out.push({ labels: { route: r.route, method: r.method }, value: r.count, metricName: `${LATENCY}_count` });
    }
    return out;
  }

  reset(): void {
    this.#records.clear();
  }
}

/** A metric whose samples are made when the registry is read (prom-client's metric interface). */
function derivedMetric(name: string, help: string, type: 'counter' | 'histogram', samples: () => Sample[], reset: () => void) {
  return { name, help, type, aggregator: 'sum' as const, get: () => ({ name, help, type, aggregator: 'sum' as const, values: samples() }), reset };
}

export function metricsPlugin(app: FastifyInstance, services: Services, options: { defaultMetrics: boolean }): Registry {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const stats = new RequestStats();
  const reset = () => stats.reset();
  registry.registerMetric(
    derivedMetric(REQUESTS, 'HTTP requests by route template, method and status code', 'counter', () => stats.requestSamples(), reset) as unknown as Metric,
  );
  registry.registerMetric(
    derivedMetric(LATENCY, 'HTTP request latency by route template', 'histogram', () => stats.latencySamples(), reset) as unknown as Metric,
  );
  const loginFailures = new Counter({
    name: 'gatehouse_login_failures_total',
    help: 'Failed password logins by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const reuse = new Counter({
    name: 'gatehouse_refresh_token_reuse_total',
    help: 'Refresh tokens presented twice (their sessions were revoked)',
    registers: [registry],
  });
  services.events.onLoginFailure = (reason) => loginFailures.inc({ reason });
  services.events.onRefreshReuse = () => reuse.inc();

  app.addHook('onResponse', (request, reply, done) => {
    stats.observe(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return registry;
}
