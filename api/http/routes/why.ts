// GET /api/v1/why: `flowscope why` over HTTP. The query parameters are the command's flags
// (from-pod, to-service, to-port, since, until, limit, …; filter parameters may repeat); the answer
// is the relay's WhyReport as protojson, what `flowscope why -o json` prints. Bad questions (ours
// or the relay's INVALID_ARGUMENT) and relay failures go through the API's one error handler.
import type { FastifyInstance } from 'fastify';
import { types } from '../../../proto/index.js';
import { toProtoJSON } from '../../../proto/json.js';
import { protoRef } from '../proto-schema.js';
import { errorResponses } from '../schemas.js';
import { whyQuerySchema, whyRequestFromQuery } from '../why-route.js';
import type { ApiContext } from '../context.js';

export async function whyRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get(
    '/api/v1/why',
    {
      schema: {
        summary: "Why can't A reach B? One pair of endpoints diagnosed from stored flows (as `flowscope why -o json`)",
        tags: ['insights'],
        querystring: whyQuerySchema,
        response: { 200: protoRef(types.WhyReport), ...errorResponses() },
      },
    },
    async (req) => {
      const request = whyRequestFromQuery(new URL(req.url, 'http://localhost').searchParams);
      return toProtoJSON(types.WhyReport, (await ctx.clientFor(req).why(request)) as Record<string, unknown>);
    },
  );
}
