// The HTTP API: the same filters as `flowscope observe`, as query parameters, JSON out; and the
// service map / top lists of `flowscope service-map` and `flowscope top`. It is a
// client of the relay's Observer API, so it needs no storage of its own and scales separately.
import Fastify, { type FastifyInstance } from 'fastify';
import * as grpc from '@grpc/grpc-js';
import { types } from '../../proto/index.js';
import { toProtoJSON } from '../../proto/json.js';
import type { Flow } from '../../proto/types.js';
import { BOOLEAN_FILTERS, FILTER_FLAGS, type FilterFlag } from '../query/filter-flags.js';
import { selectFlows, type FlowSelection } from '../query/flows-selection.js';
import { UsageError } from '../query/usage-error.js';
import { insightsRange, type InsightsRange } from '../query/insights-range.js';
import type protobuf from 'protobufjs';
import { observerClient, type ClientTlsFlags } from '../cli/tls-options.js';
import { followTlsFiles, httpsServerOptions, serverTlsFiles, type ServerTlsSpec, type TlsFiles } from '../../common/tls.js';
import type { Server as TlsServer } from 'node:tls';
import { createLogger } from '../../common/logger.js';
import { runUntilSignal } from '../../common/lifecycle.js';

/** Largest `last`/`first` one request may ask for; larger exports belong to `flowscope export`. */
export const MAX_FLOWS_PER_REQUEST = 10_000;

const SELECTORS = ['last', 'first', 'all', 'since', 'until'] as const;
const stringOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const flowsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries([...SELECTORS, ...FILTER_FLAGS].map((k) => [k, stringOrList])),
};

const SELECTOR_SET: ReadonlySet<string> = new Set(SELECTORS);
const FILTER_SET: ReadonlySet<string> = new Set(FILTER_FLAGS);

function flag(key: string, value: string): boolean {
  if (value === '' || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`invalid value "${value}" for ${key}: expected true or false`);
}

/**
 * Query parameters as a flow selection, filters in their original order, so
 * `not=&verdict=DROPPED` means what `--not --verdict DROPPED` means to `observe`.
 */
export function queryToSelection(search: URLSearchParams): FlowSelection & { filters: FilterFlag[] } {
  const sel: FlowSelection & { filters: FilterFlag[] } = { filters: [] };
  for (const [key, value] of search) {
    if (key === 'all') sel.all = flag(key, value);
    else if (BOOLEAN_FILTERS.has(key)) {
      if (flag(key, value)) sel.filters.push({ flag: key });
    } else if (FILTER_SET.has(key)) sel.filters.push({ flag: key, value });
    else if (SELECTOR_SET.has(key)) {
      const k = key as 'last' | 'first' | 'since' | 'until';
      if (sel[k] !== undefined) throw new UsageError(`query parameter "${key}" given more than once`);
      sel[k] = value;
    } else throw new UsageError(`unknown query parameter "${key}"`);
  }
  return sel;
}

export interface ApiOptions {
  server: string;
  logger?: boolean;
  /** TLS to the relay (hubble's client flags); absent: plaintext. */
  relayTls?: ClientTlsFlags;
  /** HTTPS with these (watched) files; absent: HTTP. */
  https?: TlsFiles | null;
}

export function buildApi(opts: ApiOptions): FastifyInstance {
  const tls = opts.https ?? null;
  // The https overload types the instance with https.Server; routes and hooks are the same.
  const app = (tls ? Fastify({ logger: opts.logger ?? false, https: httpsServerOptions(tls) }) : Fastify({ logger: opts.logger ?? false })) as FastifyInstance;
  if (tls) {
    followTlsFiles(app.server as unknown as TlsServer, tls);
    app.addHook('onClose', async () => tls.close());
  }
  // The relay's certificate files are watched too: the API runs for long.
  const client = observerClient(opts.server, 30_000, opts.relayTls ?? {}, {});
  app.addHook('onClose', async () => client.close());

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    try {
      const status = await client.healthCheck();
      if (status !== 'SERVING') return reply.code(503).send({ status: 'unavailable', relay: opts.server, health: status });
      return { status: 'ready', relay: opts.server };
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', relay: opts.server, error: (err as grpc.ServiceError).details || (err as Error).message });
    }
  });

  app.get('/api/v1/flows', { schema: { querystring: flowsQuerySchema } }, async (req, reply) => {
    let request;
    try {
      const search = new URL(req.url, 'http://localhost').searchParams;
      request = selectFlows(queryToSelection(search));
      if ((request.number ?? 0) > MAX_FLOWS_PER_REQUEST && !search.has('all')) {
        throw new UsageError(`at most ${MAX_FLOWS_PER_REQUEST} flows per request (use flowscope observe or export for more)`);
      }
      // all=true: everything that matches, as long as it fits in one response.
      if (search.has('all')) request = { ...request, number: MAX_FLOWS_PER_REQUEST + 1, first: true };
    } catch (err) {
      if (err instanceof UsageError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: err.message });
      throw err;
    }
    const flows: unknown[] = [];
    try {
      await client.getFlows({ ...request, field_mask: undefined }, (res) => {
        if (res.flow) flows.push(toProtoJSON(types.Flow, res.flow as Flow as Record<string, unknown>));
      });
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.INVALID_ARGUMENT) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: e.details || e.message });
      return reply.code(502).send({ statusCode: 502, error: 'Bad Gateway', message: `relay ${opts.server}: ${e.details || e.message}` });
    }
    if (flows.length > MAX_FLOWS_PER_REQUEST) {
      return reply
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', message: `more than ${MAX_FLOWS_PER_REQUEST} flows match: narrow the query, or use last/first` });
    }
    return { flows };
  });

  // Rollup queries: since (default 1h), until, namespace, limit — the flags of the CLI commands.
  const insightsQuerySchema = {
    type: 'object',
    additionalProperties: false,
    properties: { since: { type: 'string' }, until: { type: 'string' }, namespace: { type: 'string' }, limit: { type: 'string' } },
  };
  const insightsRoutes: Array<[string, 'serviceMap' | 'topTalkers' | 'topDropReasons', protobuf.Type]> = [
    ['/api/v1/service-map', 'serviceMap', types.ServiceMapResponse],
    ['/api/v1/top/talkers', 'topTalkers', types.TopTalkersResponse],
    ['/api/v1/top/drops', 'topDropReasons', types.TopDropReasonsResponse],
  ];
  for (const [url, method, type] of insightsRoutes) {
    app.get(url, { schema: { querystring: insightsQuerySchema } }, async (req, reply) => {
      const q = req.query as Partial<InsightsRange>;
      let request;
      try {
        // The schema strips unknown parameters; a typo must be an error, not silently ignored.
        for (const key of new URL(req.url, 'http://localhost').searchParams.keys()) {
          if (!(key in insightsQuerySchema.properties)) throw new UsageError(`unknown query parameter "${key}" (expected since, until, namespace, limit)`);
        }
        request = insightsRange({ since: q.since ?? '1h', until: q.until, namespace: q.namespace, limit: q.limit });
      } catch (err) {
        if (err instanceof UsageError) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: err.message.replace(/--/g, '') });
        throw err;
      }
      try {
        return toProtoJSON(type, (await client[method](request)) as Record<string, unknown>);
      } catch (err) {
        const e = err as grpc.ServiceError;
        if (e.code === grpc.status.INVALID_ARGUMENT) return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: e.details || e.message });
        return reply.code(502).send({ statusCode: 502, error: 'Bad Gateway', message: `relay ${opts.server}: ${e.details || e.message}` });
      }
    });
  }

  return app;
}

export function splitListen(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new UsageError(`invalid listen address "${listen}": expected host:port`);
  return { host: m[1].replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) };
}

export async function runApi(opts: { listen: string; server: string; relayTls?: ClientTlsFlags; https?: ServerTlsSpec | null }): Promise<void> {
  const log = createLogger('api');
  // Files first: a bad one stops the API with a one-line error (TlsConfigError, exit 2).
  const https = opts.https ? serverTlsFiles(opts.https, log) : null;
  const app = buildApi({ server: opts.server, https, ...(opts.relayTls ? { relayTls: opts.relayTls } : {}) });
  const { host, port } = splitListen(opts.listen);
  await app.listen({ host, port });
  log.info({ listen: opts.listen, relay: opts.server, https: !!https }, 'HTTP API listening');
  runUntilSignal(log, () => app.close());
}
