// The HTTP API, schema first: every route declares its querystring and response schemas, which
// validate requests (400 naming the parameter, one error handler in errors.ts), serialize
// answers, and become the OpenAPI document at /openapi.json with interactive docs at /docs.
// It is a client of the relay's Observer API, so it needs no storage of its own and scales
// separately.
import Fastify, { type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { Registry } from 'prom-client';
import * as grpc from '@grpc/grpc-js';
import { observerClient, type ClientTlsFlags } from '../cli/tls-options.js';
import { isTokenRefusal, type ObserverApiClient } from '../client.js';
import { followTlsFiles, httpsServerOptions, serverTlsFiles, type ServerTlsSpec, type TlsFiles } from '../../common/tls.js';
import type { Server as TlsServer } from 'node:tls';
import { createLogger } from '../../common/logger.js';
import { runUntilSignal } from '../../common/lifecycle.js';
import { VERSION } from '../../common/version.js';
import { UsageError } from '../query/usage-error.js';
import { installErrorHandler } from './errors.js';
import { registerApiMetrics } from './metrics.js';
import { sharedSchemas } from './schemas.js';
import type { ApiContext } from './context.js';
import { flowsRoutes } from './routes/flows.js';
import { insightsRoutes } from './routes/insights.js';
import { clusterRoutes } from './routes/cluster.js';
import { whyRoutes } from './routes/why.js';
import { webRoutes } from './routes/web.js';
import { API_PREFIX, installAuth } from './auth.js';
import { TokenFile, type Principal } from '../../common/auth/token-file.js';
import { ObservedMetric } from '../../common/metrics/family.js';

export { queryToSelection } from './routes/flows.js';
export { MAX_FLOWS_PER_REQUEST } from './schemas.js';

/**
 * The /api/v1 route plugins, each in its own file under routes/ with its schemas. A new route is
 * one plugin here.
 */
const API_ROUTES: Array<(app: FastifyInstance, ctx: ApiContext) => Promise<void>> = [flowsRoutes, insightsRoutes, clusterRoutes, whyRoutes];

export interface ApiOptions {
  server: string;
  logger?: boolean;
  /** Node's process_* / nodejs_* metrics on /metrics too (the `flowscope api` process; not in tests that build several). */
  processMetrics?: boolean;
  /** TLS to the relay (hubble's client flags); absent: plaintext. */
  relayTls?: ClientTlsFlags;
  /** HTTPS with these (watched) files; absent: HTTP. */
  https?: TlsFiles | null;
  /** Tokens checked before the relay is asked (the relay applies their namespaces); absent:
   * the caller's token is only forwarded, and the relay decides. */
  tokens?: { verify(token: string): Principal | null; stats?: { reloads: number; reloadErrors: number }; inForce?: boolean } | null;
}

export function buildApi(opts: ApiOptions): FastifyInstance {
  const tls = opts.https ?? null;
  const base = {
    logger: opts.logger ?? false,
    // Unknown query parameters are errors (a typo must not silently widen a query), not stripped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' as const, allErrors: false } },
  };
  // The https overload types the instance with https.Server; routes and hooks are the same.
  const app = (tls ? Fastify({ ...base, https: httpsServerOptions(tls) }) : Fastify(base)) as unknown as FastifyInstance;
  if (tls) {
    followTlsFiles(app.server as unknown as TlsServer, tls);
    app.addHook('onClose', async () => tls.close());
  }
  // The relay's certificate files are watched too: the API runs for long.
  const client = observerClient(opts.server, 30_000, opts.relayTls ?? {}, {});
  const registry = new Registry();
  const auth = installAuth(app, registry, opts.tokens ?? null);
  const tokenFile = opts.tokens;
  const reloads = tokenFile?.stats;
  if (tokenFile && reloads) {
    new ObservedMetric(
      'flowscope_api_auth_token_file_ok',
      '1 when the token file on disk is the one in force; 0 while a changed file does not check',
      'gauge',
      () => (tokenFile.inForce === false ? 0 : 1),
    ).register(registry);
    new ObservedMetric('flowscope_api_auth_token_file_reloads_total', 'Token file reloaded after a change', 'counter', () => reloads.reloads).register(
      registry,
    );
    new ObservedMetric(
      'flowscope_api_auth_token_file_reload_errors_total',
      'Changed token files that did not check (the previous tokens stay in force)',
      'counter',
      () => reloads.reloadErrors,
    ).register(registry);
  }
  const ctx: ApiContext = { clientFor: (req) => client.withToken(auth.token(req)), server: opts.server, registry };
  app.addHook('onClose', async () => client.close());
  installErrorHandler(app, registry, opts.server, auth);
  registerApiMetrics(app, registry, { processMetrics: opts.processMetrics });
  for (const s of sharedSchemas) app.addSchema(s);

  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'flowscope HTTP API',
        version: VERSION,
        description:
          "Flows, live streams, service map and status of a flowscope relay. Flows are in Hubble's JSON. Query parameters are the `flowscope observe` filters.",
      },
      tags: [
        { name: 'flows', description: 'Stored and live flows' },
        { name: 'insights', description: 'Rollup queries over a time range' },
        { name: 'cluster', description: 'Relay, nodes and namespaces' },
        { name: 'health', description: 'Probes and metrics' },
      ],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'A token from `flowscope tokens create`; it sees the flows with one of its namespaces on either side',
          },
        },
      },
    },
    // Components named after their proto messages instead of def-0, def-1, ….
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  // Every data route requires the bearer token (documented once here, for all of them).
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(API_PREFIX) && route.schema) route.schema = { ...route.schema, security: [{ bearer: [] }] };
  });
  // The flow explorer at / (api/web/): a client of the routes below, like any other.
  app.register(webRoutes);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.register(async (scope) => {
    scope.get(
      '/healthz',
      { schema: { summary: 'The process is up', tags: ['health'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } },
      async () => ({
        status: 'ok',
      }),
    );
    scope.get(
      '/readyz',
      {
        schema: {
          summary: 'The relay answers its health check with SERVING',
          tags: ['health'],
          response: {
            200: { type: 'object', properties: { status: { type: 'string' }, relay: { type: 'string' } } },
            503: {
              type: 'object',
              properties: { status: { type: 'string' }, relay: { type: 'string' }, health: { type: 'string' }, error: { type: 'string' } },
            },
          },
        },
      },
      async (_req, reply) => {
        try {
          const status = await client.healthCheck();
          if (status !== 'SERVING') return reply.code(503).send({ status: 'unavailable', relay: opts.server, health: status });
          // An API that checks tokens in front of a relay that does not would hand every valid
          // token all namespaces: not ready until the relay refuses a call without one (LostEvents:
          // in memory, no storage query per probe).
          if (opts.tokens && (await relayRequiresTokens(client)) === false)
            return reply
              .code(503)
              .send({ status: 'unavailable', relay: opts.server, error: 'the relay answers without a token: run it with the same --auth-token-file' });
          return { status: 'ready', relay: opts.server };
        } catch (err) {
          return reply.code(503).send({ status: 'unavailable', relay: opts.server, error: (err as grpc.ServiceError).details || (err as Error).message });
        }
      },
    );
    scope.get(
      '/metrics',
      { schema: { summary: "The API's own Prometheus metrics (rejected requests, relay errors, open streams)", tags: ['health'], produces: ['text/plain'] } },
      async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()),
    );
    for (const routes of API_ROUTES) await routes(scope, ctx);
  });
  return app;
}

/** Whether the relay refuses a call without a token (true), answers it (false); a relay that
 * cannot be asked throws (the probe's own error path). */
async function relayRequiresTokens(client: ObserverApiClient): Promise<boolean> {
  try {
    await client.withToken(undefined).lostEvents();
    return false;
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (isTokenRefusal(e) === 'unauthenticated') return true;
    // A relay out of reach, or one refusing the API's client certificate: the probe's error.
    if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED || e.code === grpc.status.UNAUTHENTICATED) throw err;
    return false;
  }
}

export function splitListen(listen: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new UsageError(`invalid listen address "${listen}": expected host:port`);
  return { host: m[1].replace(/^\[|\]$/g, '') || '0.0.0.0', port: Number(m[2]) };
}

export async function runApi(opts: {
  listen: string;
  server: string;
  relayTls?: ClientTlsFlags;
  https?: ServerTlsSpec | null;
  authTokenFile?: string;
}): Promise<void> {
  const log = createLogger('api');
  // Files first: a bad one stops the API with a one-line error (TokenFileError, TlsConfigError: exit 2).
  const tokens = opts.authTokenFile !== undefined ? new TokenFile(opts.authTokenFile, log) : null;
  let https: TlsFiles | null;
  try {
    https = opts.https ? serverTlsFiles(opts.https, log) : null;
  } catch (err) {
    tokens?.close();
    throw err;
  }
  const app = buildApi({ server: opts.server, processMetrics: true, https, tokens, ...(opts.relayTls ? { relayTls: opts.relayTls } : {}) });
  if (tokens) app.addHook('onClose', async () => tokens.close());
  const { host, port } = splitListen(opts.listen);
  await app.listen({ host, port });
  log.info(
    { listen: opts.listen, relay: opts.server, https: !!https, auth: !!tokens },
    'HTTP API listening (web UI at /, docs at /docs, OpenAPI at /openapi.json)',
  );
  runUntilSignal(log, () => app.close());
}
