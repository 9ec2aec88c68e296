// GET /api/v1/flows (history, streamed as one JSON document, with cursor paging) and
// GET /api/v1/flows/stream (Server-Sent Events: history since/last, then live flows).
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';
import { types } from '../../../proto/index.js';
import { toProtoJSON } from '../../../proto/json.js';
import type { Flow, GetFlowsResponse } from '../../../proto/types.js';
import * as grpc from '@grpc/grpc-js';
import { BOOLEAN_FILTERS, FILTER_FLAGS, blameFilterFlag, type FilterFlag } from '../../query/filter-flags.js';
import { selectFlows, type FlowSelection } from '../../query/flows-selection.js';
import { UsageError } from '../../query/usage-error.js';
import { flowResponses } from '../flow-stream.js';
import { decodeCursor, PageTracker, pageRequest, queryKey, type Order } from '../flow-pages.js';
import { DEFAULT_PAGE, MAX_FLOWS_PER_REQUEST, errorResponses, flowsQuerySchema, flowsResponseSchema, streamQuerySchema } from '../schemas.js';
import type { ApiContext } from '../context.js';

const FILTER_SET: ReadonlySet<string> = new Set(FILTER_FLAGS);
const PAGING = new Set(['limit', 'cursor', 'order']);
const SELECTORS = new Set(['last', 'first', 'since', 'until']);
/** Bytes gathered before a write: one chunk per flow would be thousands of tiny writes. */
const CHUNK_BYTES = 64 * 1024;
/** An SSE comment this often keeps idle connections (and proxies) from timing out. */
const HEARTBEAT_MS = 15_000;

function flag(key: string, value: string): boolean {
  if (value === '' || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`invalid value "${value}" for ${key}: expected true or false`);
}

/**
 * Query parameters as a flow selection, filters in their original order, so
 * `not=&verdict=DROPPED` means what `--not --verdict DROPPED` means to `observe`. Names and value
 * shapes were checked by the route's schema; this reads the order the schema cannot see.
 */
export function queryToSelection(search: URLSearchParams): FlowSelection & { filters: FilterFlag[] } {
  const sel: FlowSelection & { filters: FilterFlag[] } = { filters: [] };
  for (const [key, value] of search) {
    if (key === 'all') sel.all = flag(key, value);
    else if (BOOLEAN_FILTERS.has(key)) {
      if (flag(key, value)) sel.filters.push({ flag: key });
    } else if (FILTER_SET.has(key)) sel.filters.push({ flag: key, value });
    else if (SELECTORS.has(key)) {
      const k = key as 'last' | 'first' | 'since' | 'until';
      if (sel[k] !== undefined) throw new UsageError(`query parameter "${key}" given more than once`);
      sel[k] = value;
    } else if (!PAGING.has(key)) throw new UsageError(`unknown query parameter "${key}"`);
  }
  return sel;
}

function searchOf(req: FastifyRequest): URLSearchParams {
  return new URL(req.url, 'http://localhost').searchParams;
}

const flowJSON = (f: Flow): string => JSON.stringify(toProtoJSON(types.Flow, f as Record<string, unknown>));

/** `{"flows":[…]` then `,"next_cursor":…}` when paging: written as the flows arrive. */
async function* jsonBody(first: IteratorResult<GetFlowsResponse>, rest: AsyncGenerator<GetFlowsResponse>, page?: PageTracker): AsyncGenerator<string> {
  let buf = '{"flows":[';
  let n = 0;
  try {
    for (let r = first; !r.done; r = await rest.next()) {
      const flow = r.value.flow;
      if (!flow || (page && !page.accept(flow))) continue;
      buf += (n++ === 0 ? '' : ',') + flowJSON(flow);
      if (buf.length >= CHUNK_BYTES) {
        yield buf;
        buf = '';
      }
    }
  } finally {
    await rest.return(undefined);
  }
  buf += ']';
  if (page) buf += `,"next_cursor":${JSON.stringify(page.next())}`;
  yield buf + '}';
}

export async function flowsRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get(
    '/api/v1/flows',
    {
      schema: {
        summary: 'Stored flows matching the observe filters',
        description:
          'Every `flowscope observe` filter is a query parameter (repeat a key for "either"; `not=true` negates the next one). ' +
          'Without limit/cursor: `last`/`first` N (default last 20) or `all=true`, streamed. ' +
          'With `limit` (and `cursor` from the previous answer): pages of that many flows, newest first unless order=asc.',
        tags: ['flows'],
        querystring: flowsQuerySchema,
        response: { 200: flowsResponseSchema, ...errorResponses() },
      },
    },
    async (req, reply) => {
      const search = searchOf(req);
      const q = req.query as { limit?: number; cursor?: string; order?: Order };
      const sel = queryToSelection(search);
      const paging = q.limit !== undefined || q.cursor !== undefined;
      let request = selectFlows(sel, { defaultLast: !paging });
      let page: PageTracker | undefined;
      if (paging) {
        for (const k of ['last', 'first', 'all'] as const) {
          if (search.has(k)) throw new UsageError(`query parameter "${k}" cannot be combined with limit/cursor paging`);
        }
        const order = q.order ?? 'desc';
        const limit = q.limit ?? DEFAULT_PAGE;
        const key = queryKey(search);
        const cursor = q.cursor !== undefined ? decodeCursor(q.cursor, key) : undefined;
        if (cursor && cursor.order !== order) throw new UsageError('invalid cursor: it was given for the other order');
        request = pageRequest(request, limit, order, cursor);
        page = new PageTracker(limit, order, key, cursor);
      } else if (search.has('order')) {
        throw new UsageError('query parameter "order" applies to limit/cursor paging only');
      } else if ((request.number ?? 0) > MAX_FLOWS_PER_REQUEST && !search.has('all')) {
        throw new UsageError(
          `at most ${MAX_FLOWS_PER_REQUEST} flows per request with last/first (use limit and cursor, all=true, or flowscope export for more)`,
        );
      }
      const it = flowResponses(ctx.clientFor(req), { ...request, field_mask: undefined });
      // The first answer (or the relay's refusal) comes before the status line is written, so a
      // bad request is still a 400; after that the body streams.
      const first = await it.next().catch((err: unknown) => {
        throw blameRelayRefusal(err, sel.filters);
      });
      reply.type('application/json; charset=utf-8');
      return reply.send(Readable.from(jsonBody(first, it, page)));
    },
  );

  const openStreams = new Gauge({ name: 'flowscope_api_open_streams', help: 'Server-Sent Events flow streams open now', registers: [ctx.registry] });
  app.get(
    '/api/v1/flows/stream',
    {
      schema: {
        summary: 'Live flows as Server-Sent Events',
        description:
          'The same filters as /api/v1/flows. Each flow is an event `flow` whose data is the flow in Hubble JSON; lost events are `lost`, a relay error ' +
          'ends the stream with an `error` event. `since` or `last` first replays stored flows. The stream ends when the client closes it.',
        tags: ['flows'],
        querystring: streamQuerySchema,
        response: {
          200: { description: 'text/event-stream of `flow`, `lost` and `error` events', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...errorResponses(),
        },
      },
    },
    async (req, reply) => {
      const sel = queryToSelection(searchOf(req));
      const request = selectFlows({ ...sel, follow: true });
      if ((request.number ?? 0) > MAX_FLOWS_PER_REQUEST) throw new UsageError(`at most ${MAX_FLOWS_PER_REQUEST} stored flows with last`);
      // The response only closes when the client goes away: that ends the relay call too.
      const gone = new AbortController();
      reply.raw.on('close', () => gone.abort());
      let accepted!: () => void;
      const acceptance = new Promise<void>((r) => (accepted = r));
      const it = flowResponses(ctx.clientFor(req), request, gone.signal, () => accepted());
      let pending = it.next();
      // The relay takes the call (its response headers) or refuses it before the status line is
      // written, so a missing token is a 401, a forbidden request a 403 and bad filters a 400.
      await Promise.race([acceptance, pending.then(() => undefined)]);
      openStreams.inc();
      const events = async function* (): AsyncGenerator<string> {
        let timer: NodeJS.Timeout | undefined;
        try {
          yield ': flowscope flow stream\n\n';
          for (;;) {
            const beat = new Promise<'beat'>((r) => (timer = setTimeout(() => r('beat'), HEARTBEAT_MS)));
            let r: IteratorResult<GetFlowsResponse> | 'beat';
            try {
              r = await Promise.race([pending, beat]);
            } catch (err) {
              yield `event: error\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`;
              return;
            } finally {
              clearTimeout(timer);
            }
            if (r === 'beat') {
              yield ':\n\n';
              continue;
            }
            if (r.done) return;
            pending = it.next();
            const v = r.value;
            if (v.flow) yield `event: flow\ndata: ${flowJSON(v.flow)}\n\n`;
            else if (v.lost_events) yield `event: lost\ndata: ${JSON.stringify(toProtoJSON(types.LostEvent, v.lost_events as Record<string, unknown>))}\n\n`;
          }
        } finally {
          openStreams.dec();
          // Abort first: a pending next() only settles once the call has ended.
          gone.abort();
          await pending.catch(() => {});
          await it.return(undefined);
        }
      };
      reply.header('cache-control', 'no-cache').header('x-accel-buffering', 'no').type('text/event-stream; charset=utf-8');
      return reply.send(Readable.from(events()));
    },
  );
}

/** The relay refused the filters (INVALID_ARGUMENT): name the parameter that caused it, when one alone does. */
function blameRelayRefusal(err: unknown, filters: readonly FilterFlag[]): unknown {
  if ((err as Partial<grpc.ServiceError>).code !== grpc.status.INVALID_ARGUMENT) return err;
  return blameFilterFlag(filters) ?? err;
}
