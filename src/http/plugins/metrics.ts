// Prometheus metrics at /metrics: requests by route and status, latency, login failures,
// refresh-token reuse. One registry per app, so tests and several apps never share counters.

import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Services } from '../../services/index.ts';

export function metricsPlugin(app: FastifyInstance, services: Services, options: { defaultMetrics: boolean }): Registry {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const requests = new Counter({
    name: 'gatehouse_http_requests_total',
    help: 'HTTP requests by route template, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request latency by route template',
    labelNames: ['route', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
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

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return registry;
}
