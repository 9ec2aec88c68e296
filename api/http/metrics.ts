// The HTTP API's own Prometheus metrics (served at GET /metrics by server.ts, beside the
// rejection counters of errors.ts): requests by route and status code (every refusal is a 4xx
// there), and connections Node's HTTP parser refused before any route saw them (headers too
// large, a malformed request line).
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, type Registry } from 'prom-client';

export function registerApiMetrics(app: FastifyInstance, registry: Registry, opts: { processMetrics?: boolean } = {}): void {
  if (opts.processMetrics) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'flowscope_api_requests_total',
    help: 'HTTP API requests answered, by route and status code (4xx: refused)',
    labelNames: ['route', 'code'],
    registers: [registry],
  });
  const clientErrors = new Counter({
    name: 'flowscope_api_client_errors_total',
    help: "Requests refused by Node's HTTP parser before routing (e.g. 431 headers too large)",
    registers: [registry],
  });
  // Labels from the route pattern, never from the URL: a hostile path cannot add series.
  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ route: req.routeOptions.url ?? 'unmatched', code: String(reply.statusCode) });
  });
  app.addHook('onReady', async () => {
    app.server.on('clientError', () => clientErrors.inc());
  });
}
