// GET /api/v1/why: `flowscope why` over HTTP. The query parameters are the command's flags
// (from-pod, to-service, to-port, since, until, limit, …; filter parameters may repeat), the
// answer is the relay's WhyReport as protojson — what `flowscope why -o json` prints. The route
// only wires this module into the server, so the handler moves with it unchanged.
import * as grpc from '@grpc/grpc-js';
import { types } from '../../proto/index.js';
import { toProtoJSON } from '../../proto/json.js';
import type { WhyReport, WhyRequest } from '../../proto/types.js';
import type { FilterFlag } from '../query/filter-flags.js';
import { WHY_FILTER_FLAGS, whyRequest } from '../query/why-selection.js';
import { UsageError } from '../query/usage-error.js';

const SINGLE = ['since', 'until', 'limit'] as const;
const FILTERS: ReadonlySet<string> = new Set(WHY_FILTER_FLAGS);

/** JSON schema of the route's querystring. */
export const whyQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries([
    ...WHY_FILTER_FLAGS.map((k) => [k, { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }]),
    ...SINGLE.map((k) => [k, { type: 'string' }]),
  ]),
};

/** Query parameters as a Why request, filters in their order; UsageError naming the parameter. */
export function whyRequestFromQuery(search: URLSearchParams, nowMs = Date.now()): WhyRequest {
  const filters: FilterFlag[] = [];
  const single: Partial<Record<(typeof SINGLE)[number], string>> = {};
  for (const [key, value] of search) {
    if (FILTERS.has(key)) filters.push({ flag: key, value });
    else if ((SINGLE as readonly string[]).includes(key)) {
      const k = key as (typeof SINGLE)[number];
      if (single[k] !== undefined) throw new UsageError(`query parameter "${key}" given more than once`);
      single[k] = value;
    } else throw new UsageError(`unknown query parameter "${key}" (expected ${[...WHY_FILTER_FLAGS, ...SINGLE].join(', ')})`);
  }
  return whyRequest({ filters, ...single }, nowMs);
}

export interface WhyHttpResult {
  status: number;
  body: unknown;
}

/** The whole route: 400 for a bad question (ours or the relay's), 502 when the relay fails. */
export async function handleWhy(url: string, relay: string, ask: (req: WhyRequest) => Promise<WhyReport>): Promise<WhyHttpResult> {
  let request: WhyRequest;
  try {
    request = whyRequestFromQuery(new URL(url, 'http://localhost').searchParams);
  } catch (err) {
    if (err instanceof UsageError) return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: err.message.replace(/--/g, '') } };
    throw err;
  }
  try {
    return { status: 200, body: toProtoJSON(types.WhyReport, (await ask(request)) as Record<string, unknown>) };
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.INVALID_ARGUMENT) return { status: 400, body: { statusCode: 400, error: 'Bad Request', message: e.details || e.message } };
    return { status: 502, body: { statusCode: 502, error: 'Bad Gateway', message: `relay ${relay}: ${e.details || e.message}` } };
  }
}
