// GET /api/v1/service-map, /api/v1/top/talkers, /api/v1/top/drops: the relay's rollup queries,
// with the flags of `flowscope service-map` / `flowscope top` as query parameters.
import type { FastifyInstance } from 'fastify';
import type protobuf from 'protobufjs';
import { types } from '../../../proto/index.js';
import { toProtoJSON } from '../../../proto/json.js';
import { insightsRange } from '../../query/insights-range.js';
import { protoRef } from '../proto-schema.js';
import { errorResponses, insightsQuerySchema } from '../schemas.js';
import type { ApiContext } from '../context.js';

const ROUTES: Array<{ url: string; method: 'serviceMap' | 'topTalkers' | 'topDropReasons'; type: protobuf.Type; summary: string }> = [
  {
    url: '/api/v1/service-map',
    method: 'serviceMap',
    type: types.ServiceMapResponse,
    summary: 'Service map: workload-to-workload edges with flow, drop and byte counts (as `flowscope service-map -o json`)',
  },
  { url: '/api/v1/top/talkers', method: 'topTalkers', type: types.TopTalkersResponse, summary: 'Busiest workloads (as `flowscope top talkers -o json`)' },
  { url: '/api/v1/top/drops', method: 'topDropReasons', type: types.TopDropReasonsResponse, summary: 'Top drop reasons (as `flowscope top drops -o json`)' },
];

export async function insightsRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  for (const { url, method, type, summary } of ROUTES) {
    app.get(
      url,
      { schema: { summary, tags: ['insights'], querystring: insightsQuerySchema, response: { 200: protoRef(type), ...errorResponses() } } },
      async (req) => {
        const q = req.query as { since?: string; until?: string; namespace?: string; cluster?: string; limit?: number };
        const request = insightsRange({
          since: q.since ?? '1h',
          until: q.until,
          namespace: q.namespace,
          cluster: q.cluster,
          limit: q.limit === undefined ? undefined : String(q.limit),
        });
        return toProtoJSON(type, (await ctx.clientFor(req)[method](request)) as Record<string, unknown>);
      },
    );
  }
}
