// GetFlows with Hubble's semantics over any history + live pair: the collector serves it from
// its ring, the relay from ClickHouse plus its merged live stream.
import * as grpc from '@grpc/grpc-js';
import type { Flow, FlowFilter, GetFlowsRequest, GetFlowsResponse, LostEvent, Timestamp, NodeStatusEvent } from '../proto/types.js';
import { compileFlowFilters, FilterError } from '../filters/index.js';
import { grpcError } from '../common/grpc-services.js';
import { compareTimestamps, nowTimestamp } from '../common/time.js';
import { compileFieldMask, applyFieldMask } from './field-mask.js';
import type { LiveFeed } from './live.js';

export interface HistoryQuery {
  whitelist: FlowFilter[];
  blacklist: FlowFilter[];
  predicate: (flow: Flow) => boolean;
  since?: Timestamp;
  until?: Timestamp;
  /** 0 = no limit. */
  number: number;
  /** Oldest `number` flows instead of the newest. */
  first: boolean;
  /** Only items at or below this live-feed cursor: newer ones will arrive through the live feed. */
  upTo: number;
  signal: AbortSignal;
  /** Flows the history lost while this query read it (the collector's ring lapping a slow reader): sent to the client. */
  onLost?: (ev: LostEvent) => void;
}

export interface FlowHistory {
  /** Matching flows in ascending time order. */
  query(q: HistoryQuery): AsyncIterable<Flow>;
}

export interface GetFlowsDeps {
  history: FlowHistory;
  live: LiveFeed;
  /** Status lines sent before any flow (the relay announces connected/unavailable nodes). */
  preamble?: () => NodeStatusEvent[];
  serverNodeName: string;
  /**
   * The cursor a request without follow reads history up to (default: the live feed's). Relays
   * sharing a store give the request time: the other relays' batches never pass through this
   * relay's live feed, so its cursor would hide everything they stored since it last stored.
   */
  historyUpTo?: () => number;
}

export type FlowsCall = grpc.ServerWritableStream<GetFlowsRequest, GetFlowsResponse>;

/** Validates a request; throws an INVALID_ARGUMENT ServiceError with Hubble-like messages. */
export function validateGetFlows(req: GetFlowsRequest): { predicate: (f: Flow) => boolean } {
  if (req.first && req.follow) throw grpcError(grpc.status.INVALID_ARGUMENT, 'first cannot be specified with follow');
  if (req.since && req.until && compareTimestamps(req.since, req.until) > 0) {
    throw grpcError(grpc.status.INVALID_ARGUMENT, 'since cannot be after until');
  }
  for (const ts of [req.since, req.until]) {
    if (ts && (ts.nanos < 0 || ts.nanos > 999_999_999)) throw grpcError(grpc.status.INVALID_ARGUMENT, 'invalid timestamp');
  }
  try {
    return { predicate: compileFlowFilters(req.whitelist ?? [], req.blacklist ?? []) };
  } catch (err) {
    if (err instanceof FilterError) throw grpcError(grpc.status.INVALID_ARGUMENT, err.message);
    throw err;
  }
}

class StreamWriter {
  readonly abort = new AbortController();
  constructor(private readonly call: FlowsCall) {
    const stop = () => this.abort.abort();
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('error', stop);
  }
  get cancelled(): boolean {
    return this.abort.signal.aborted;
  }
  async write(msg: GetFlowsResponse): Promise<void> {
    if (this.cancelled) return;
    if (this.call.write(msg)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.call.off('drain', done);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      this.call.on('drain', done);
      this.abort.signal.addEventListener('abort', done);
    });
  }
}

export async function handleGetFlows(call: FlowsCall, deps: GetFlowsDeps): Promise<void> {
  const req = call.request;
  let predicate: (f: Flow) => boolean;
  try {
    ({ predicate } = validateGetFlows(req));
  } catch (err) {
    call.emit('error', err as Error);
    return;
  }
  let mask: ReturnType<typeof compileFieldMask>;
  try {
    mask = compileFieldMask(req.field_mask?.paths?.length ? req.field_mask.paths : req.experimental?.field_mask?.paths);
  } catch (err) {
    call.emit('error', err as Error);
    return;
  }
  const out = new StreamWriter(call);
  // Subscribe before reading history so nothing published meanwhile is missed.
  const sub = req.follow ? deps.live.subscribe() : null;
  // A cancelled client ends the subscription, which wakes a pending next() with [].
  if (sub) out.abort.signal.addEventListener('abort', () => sub.close(), { once: true });
  // Without --follow the answer stops at the request (as Hubble's does): history up to the cursor
  // of now, so flows stored while a long answer streams are not appended to it.
  const upTo = sub ? sub.startCursor : (deps.historyUpTo?.() ?? deps.live.lastCursor);
  const until = req.until;
  const flowResponse = (flow: Flow): GetFlowsResponse => ({ flow: applyFieldMask(flow, mask), node_name: flow.node_name, time: flow.time });
  try {
    for (const status of deps.preamble?.() ?? []) {
      await out.write({ node_status: status, node_name: deps.serverNodeName, time: nowTimestamp() });
    }
    const onlyNew = req.follow && !req.number && !req.since;
    if (!onlyNew) {
      const lost: LostEvent[] = [];
      const flushLost = async () => {
        while (lost.length > 0) await out.write({ lost_events: lost.shift()!, node_name: deps.serverNodeName, time: nowTimestamp() });
      };
      const history = deps.history.query({
        whitelist: req.whitelist ?? [],
        blacklist: req.blacklist ?? [],
        predicate,
        since: req.since,
        until,
        number: req.number ?? 0,
        first: !!req.first,
        upTo,
        signal: out.abort.signal,
        onLost: (ev) => {
          lost.push(ev);
        },
      });
      for await (const flow of history) {
        if (out.cancelled) break;
        await flushLost();
        await out.write(flowResponse(flow));
      }
      await flushLost();
    }
    while (sub && !out.cancelled) {
      const items = await sub.next();
      for (const it of items) {
        if (it.lost) {
          await out.write({ lost_events: it.lost, node_name: deps.serverNodeName, time: nowTimestamp() });
          continue;
        }
        const flow = it.flow!;
        if (until && compareTimestamps(flow.time, until) > 0) {
          sub.close();
          break;
        }
        if (req.since && compareTimestamps(flow.time, req.since) < 0) continue;
        if (predicate(flow)) await out.write(flowResponse(flow));
      }
      if (items.length === 0 && !out.cancelled) break; // subscription closed (shutdown)
    }
    if (!out.cancelled) call.end();
  } catch (err) {
    if (!out.cancelled) call.emit('error', grpcError(grpc.status.INTERNAL, (err as Error).message));
  } finally {
    sub?.close();
  }
}
