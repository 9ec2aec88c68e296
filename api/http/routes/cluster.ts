// GET /api/v1/status, /api/v1/nodes, /api/v1/namespaces: what `flowscope status`, `list nodes`
// and `list namespaces` show, from the relay's Observer API.
import type { FastifyInstance } from 'fastify';
import { types } from '../../../proto/index.js';
import { toProtoJSON } from '../../../proto/json.js';
import { protoRef } from '../proto-schema.js';
import { errorResponses, noQuerySchema, statusResponseSchema } from '../schemas.js';
import type { ApiContext } from '../context.js';

export async function clusterRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const schema = (summary: string, response: object) => ({
    summary,
    tags: ['cluster'],
    querystring: noQuerySchema,
    response: { 200: response, ...errorResponses() },
  });

  app.get('/api/v1/status', { schema: schema('Relay health and server status (as `flowscope status`)', statusResponseSchema) }, async (req) => {
    const client = ctx.clientFor(req);
    const status = await client.serverStatus();
    // Health is reported, not required: a relay that answers ServerStatus but is not SERVING
    // (storage down) is exactly what this page is for.
    const health = await client.healthCheck().catch((err: Error) => `UNREACHABLE: ${err.message}`);
    // Only a relay counts lost events; a collector (or an older relay) answers UNIMPLEMENTED and
    // the answer simply has no lost_events.
    const lost = await client.lostEvents().catch(() => undefined);
    return {
      relay: { address: ctx.server, health },
      status: toProtoJSON(types.ServerStatusResponse, status as Record<string, unknown>),
      ...(lost && { lost_events: Object.fromEntries((lost.sources ?? []).map((s) => [s.source ?? '', s.events ?? 0])) }),
    };
  });

  app.get(
    '/api/v1/nodes',
    { schema: schema('Collectors known to the relay (as `flowscope list nodes -o json`)', protoRef(types.GetNodesResponse)) },
    async (req) => toProtoJSON(types.GetNodesResponse, (await ctx.clientFor(req).getNodes()) as Record<string, unknown>),
  );

  app.get(
    '/api/v1/namespaces',
    { schema: schema('Namespaces seen in the last hour (as `flowscope list namespaces -o json`)', protoRef(types.GetNamespacesResponse)) },
    async (req) => toProtoJSON(types.GetNamespacesResponse, (await ctx.clientFor(req).getNamespaces()) as Record<string, unknown>),
  );
}
