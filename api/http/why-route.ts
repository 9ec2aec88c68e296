// The query parameters of GET /api/v1/why (routes/why.ts): `flowscope why`'s flags (from-pod,
// to-service, to-port, since, until, limit, …; filter parameters may repeat), read into the same
// WhyRequest the CLI builds.
import type { WhyRequest } from '../../proto/types.js';
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
