// The HTTP API's contract: querystring and response JSON schemas. The flow filters' parameters
// are derived from the same list the CLI's flags come from (api/query/filter-flags.ts), the
// answers' schemas from the protobuf messages they are made of (proto-schema.ts); fastify
// validates requests against them and @fastify/swagger writes /openapi.json from them.
import { types } from '../../proto/index.js';
import { BOOLEAN_FILTERS, FILTER_FLAGS, FILTER_HELP } from '../query/filter-flags.js';
import { SELECTOR_HELP } from '../query/flows-selection.js';
import { MAX_LIMIT } from '../query/insights-range.js';
import { protoRef, protoSchemas, type JsonSchema } from './proto-schema.js';

/** Largest `last`/`first`/`limit` one request may ask for; larger exports belong to `flowscope export`. */
export const MAX_FLOWS_PER_REQUEST = 10_000;
/** Flows per page when paging (`cursor` given without `limit`). */
export const DEFAULT_PAGE = 100;

const BOOL_TEXT = ['', 'true', 'false', '1', '0'];

/**
 * One property per observe filter. Each may repeat (`pod=a&pod=b`: either), hence arrays; their
 * order across keys matters (`not=true` negates the next one), so handlers read the raw query
 * string for it and the schema checks names and value shapes.
 */
const filterProperties: Record<string, JsonSchema> = Object.fromEntries(
  FILTER_FLAGS.map((name) => [
    name,
    {
      type: 'array',
      items: BOOLEAN_FILTERS.has(name) ? { type: 'string', enum: BOOL_TEXT } : { type: 'string', maxLength: 4096 },
      maxItems: 256,
      description: BOOLEAN_FILTERS.has(name) ? `${FILTER_HELP[name]} (true/false; empty means true)` : FILTER_HELP[name],
    },
  ]),
);

const time = (what: string): JsonSchema => ({ type: 'string', maxLength: 64, description: what });
const count = (what: string): JsonSchema => ({ type: 'string', pattern: '^[0-9a-fA-FxXoObB_]{1,32}$', description: what });

export const flowsQuerySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    last: count(`${SELECTOR_HELP.last}; at most ${MAX_FLOWS_PER_REQUEST}`),
    first: count(`${SELECTOR_HELP.first}; at most ${MAX_FLOWS_PER_REQUEST}`),
    all: { type: 'string', enum: BOOL_TEXT, description: `${SELECTOR_HELP.all}, streamed` },
    since: time(SELECTOR_HELP.since),
    until: time(SELECTOR_HELP.until),
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_FLOWS_PER_REQUEST,
      description: `Page size: the answer carries next_cursor for the following page (default ${DEFAULT_PAGE} when only cursor is given); not with last/first/all`,
    },
    cursor: { type: 'string', maxLength: 65536, description: 'next_cursor of the previous page, with the same filters' },
    order: {
      type: 'string',
      enum: ['desc', 'asc'],
      description:
        'Paging direction: desc (default) walks from the newest flows back, asc from the oldest (or since) forward; flows in a page are in time order',
    },
    ...filterProperties,
  },
};

export const streamQuerySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: time(`${SELECTOR_HELP.since}: stored flows from then on come first, then live ones`),
    last: count(`Send the last N stored flows before the live ones; at most ${MAX_FLOWS_PER_REQUEST}`),
    ...filterProperties,
  },
};

export const insightsQuerySchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: time('Range start: a duration back from now (1h) or an RFC 3339 time; default 1h'),
    until: time('Range end (exclusive); default now'),
    namespace: { type: 'string', minLength: 1, maxLength: 253, description: 'Only rows with this namespace as source or destination' },
    cluster: {
      type: 'string',
      minLength: 1,
      maxLength: 253,
      description: "Only rows observed by this cluster's nodes (the rollup keeps the node, not endpoint clusters)",
    },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: 'Most rows returned (default 50 for the service map, 10 for top lists)' },
  },
};

export const noQuerySchema: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };

export const errorSchema: JsonSchema = {
  $id: 'Error',
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
    parameter: { type: 'string', description: 'The query parameter that was rejected, when one was' },
  },
};
export const errorRef = { $ref: 'Error#' };

/** Every message an answer is made of, as shared schemas (OpenAPI components). */
export const sharedSchemas: JsonSchema[] = [
  errorSchema,
  ...protoSchemas([
    types.Flow,
    types.LostEvent,
    types.ServerStatusResponse,
    types.GetNodesResponse,
    types.GetNamespacesResponse,
    types.ServiceMapResponse,
    types.TopTalkersResponse,
    types.TopDropReasonsResponse,
    types.WhyReport,
  ]),
];

export const flowsResponseSchema: JsonSchema = {
  type: 'object',
  required: ['flows'],
  properties: {
    flows: { type: 'array', items: protoRef(types.Flow), description: "Matching flows in time order, in Hubble's JSON (as `observe -o json`)" },
    next_cursor: {
      type: 'string',
      nullable: true,
      description: 'Paging only: pass as cursor for the next page; null when this page was the last',
    },
  },
};

export const statusResponseSchema: JsonSchema = {
  type: 'object',
  required: ['relay', 'status'],
  properties: {
    relay: {
      type: 'object',
      required: ['address', 'health'],
      properties: {
        address: { type: 'string' },
        health: { type: 'string', description: 'grpc.health.v1 status of the relay (SERVING when it is healthy)' },
      },
    },
    status: protoRef(types.ServerStatusResponse),
    lost_events: {
      type: 'object',
      additionalProperties: { type: 'integer', minimum: 0 },
      description:
        'Events the collectors reported lost since the relay started, by Hubble LostEventSource in lower case (as flowscope_relay_collector_lost_events_total{source}); absent when the server is not a relay',
    },
  },
};

/** Standard error answers every API route may give. */
export function errorResponses(): Record<string, JsonSchema> {
  return {
    400: { description: 'A query parameter is invalid (named in message and parameter)', ...errorRef },
    401: { description: 'No valid bearer token (the answer carries WWW-Authenticate: Bearer)', ...errorRef },
    403: { description: "The token may not see this: the request names only namespaces outside the token's, or asks for cluster-wide status", ...errorRef },
    502: { description: 'The relay could not answer', ...errorRef },
  };
}
