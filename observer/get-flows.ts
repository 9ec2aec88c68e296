// GetFlows with Hubble's semantics over any history + live pair: the collector serves it from
// its ring, the relay from ClickHouse plus the collectors' own live streams, merged.
import * as grpc from '@grpc/grpc-js';
import type { Flow, FlowFilter, GetFlowsRequest, GetFlowsResponse, LostEvent, Timestamp, NodeStatusEvent } from '../proto/types.js';
import { compileFlowFilters, FilterError } from '../filters/index.js';
import { grpcError } from '../common/grpc-services.js';
import { compareTimestamps, nowTimestamp } from '../common/time.js';
import { compileFieldMask, applyFieldMask } from './field-mask.js';
import type { LiveFeed, LiveStream } from './live.js';
import { parseResume, ResumeError } from './resume.js';
import { callAuth, callScope, flowInScope } from '../common/auth/grpc-auth.js';
import { namesOnlyOutside } from '../filters/named-namespaces.js';

export interface HistoryQuery {
  whitelist: FlowFilter[];
  blacklist: FlowFilter[];
  predicate: (flow: Flow) => boolean;
  /** Only flows with one of these namespaces on either side (a scoped token); absent: all. */
  scope?: readonly string[];
  since?: Timestamp;
  until?: Timestamp;
  /** 0 = no limit. */
  number: number;
  /** Oldest `number` flows instead of the newest. */
  first: boolean;
  /** Only items at or below this live-feed cursor: newer ones will arrive through the live feed. */
  upTo: number;
  /** Only items above this cursor (a collector resuming where the relay's history ends). */
  after?: number;
  /** The relay's handover: per collector session, the greatest flow_seq history holds. */
  marks?: ReadonlyMap<string, number>;
  signal: AbortSignal;
  /** Flows the history lost while this query read it (the collector's ring lapping a slow reader): sent to the client. */
  onLost?: (ev: LostEvent) => void;
}

export interface FlowHistory {
  /** Matching flows in ascending time order. */
  query(q: HistoryQuery): AsyncIterable<Flow>;
}

/** Where history stops; live items continue exactly after it. */
export interface HistoryCut {
  upTo: number;
  after?: number;
  marks?: ReadonlyMap<string, number>;
}

export interface FollowContext {
  /** A follow without number or since: no history, only what is new from now on. */
  onlyNew: boolean;
  metadata: grpc.Metadata;
  signal: AbortSignal;
  /** The live flows the follower reads (its filters, scope and time bounds); a source may drop
   * the others before queueing them. Flows past `until` are accepted: they end the follow. */
  accept?: (flow: Flow) => boolean;
  /** The request's field mask may be applied where the flows come from (the collectors, as
   * Hubble Relay asks its peers): false when the flows must reach here whole (a scope check). */
  maskAtSource: boolean;
}

/** The live half of GetFlows. */
export interface LiveSource {
  /** The cut of a request that does not follow: history as of the request. */
  snapshot(): Promise<HistoryCut>;
  /** Subscribes a follower, then says where its history stops. Throws a ServiceError to refuse. */
  follow(req: GetFlowsRequest, ctx: FollowContext): Promise<{ cut: HistoryCut; stream: LiveStream; resumed: boolean }>;
}

/** A LiveSource over a cursor feed (the collector's ring). A request carrying the relay's
 * resume points (observer/resume.ts) is served from the ring after the listed cursor of this
 * session, or from the ring's start when the session is not listed (the relay's history holds
 * none of it). `onInvalid` counts refused resume headers. */
export function feedLiveSource(feed: LiveFeed, session: string, onInvalid?: () => void): LiveSource {
  return {
    snapshot: async () => ({ upTo: feed.lastCursor }),
    async follow(_req, ctx) {
      let resume: Map<string, number> | null;
      try {
        resume = parseResume(ctx.metadata);
      } catch (err) {
        if (!(err instanceof ResumeError)) throw err;
        onInvalid?.();
        throw grpcError(grpc.status.INVALID_ARGUMENT, err.message);
      }
      const sub = feed.subscribe(undefined, ctx.accept);
      if (resume === null) return { cut: { upTo: sub.startCursor }, stream: sub, resumed: false };
      return { cut: { upTo: sub.startCursor, after: resume.get(session) ?? 0 }, stream: sub, resumed: true };
    },
  };
}

export interface GetFlowsDeps {
  history: FlowHistory;
  live: LiveSource;
  /** Status lines sent before any flow (the relay announces connected/unavailable nodes). */
  preamble?: () => NodeStatusEvent[];
  serverNodeName: string;
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
  /** A response, or one already encoded (a collector's, forwarded by the relay). */
  async write(msg: GetFlowsResponse | Buffer): Promise<void> {
    if (this.cancelled) return;
    if (this.call.write(msg as GetFlowsResponse)) return;
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

/** PERMISSION_DENIED for a scoped caller whose filters name only namespaces outside its scope
 * (checked before any response header, so the HTTP API can still answer 403); else null. */
export function scopeRefusal(call: FlowsCall): grpc.ServiceError | null {
  const auth = callAuth(call);
  if (!auth?.scope || !namesOnlyOutside(call.request.whitelist ?? [], auth.scope)) return null;
  return auth.forbidden();
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
  // A scoped caller sees a flow only with one of its namespaces on one side: pushed into the
  // history query and checked on every flow sent, history and live alike.
  const scope = callScope(call);
  if (scope) {
    const filters = predicate;
    predicate = (f) => flowInScope(f, scope) && filters(f);
  }
  let mask: ReturnType<typeof compileFieldMask>;
  try {
    mask = compileFieldMask(req.field_mask?.paths?.length ? req.field_mask.paths : req.experimental?.field_mask?.paths);
  } catch (err) {
    call.emit('error', err as Error);
    return;
  }
  const out = new StreamWriter(call);
  let sub: LiveStream | null = null;
  let cut: HistoryCut;
  let resumed = false;
  const followOnlyNew = !!req.follow && !req.number && !req.since;
  try {
    // Subscribe before reading history so nothing published meanwhile is missed. Without
    // --follow the answer stops at the request (as Hubble's does), so flows stored while a long
    // answer streams are not appended to it.
    if (req.follow) {
      const since = req.since;
      const until = req.until;
      const accept = (f: Flow): boolean =>
        (!!until && compareTimestamps(f.time, until) > 0) || ((!since || compareTimestamps(f.time, since) >= 0) && predicate(f));
      ({
        cut,
        stream: sub,
        resumed,
      } = await deps.live.follow(req, {
        onlyNew: followOnlyNew,
        metadata: call.metadata,
        signal: out.abort.signal,
        accept,
        maskAtSource: !scope,
      }));
    } else cut = await deps.live.snapshot();
  } catch (err) {
    const e = err as grpc.ServiceError;
    call.emit('error', typeof e.code === 'number' ? e : grpcError(grpc.status.UNAVAILABLE, e.message));
    return;
  }
  // A cancelled client ends the subscription, which wakes a pending next() with [].
  if (sub) {
    const s = sub;
    out.abort.signal.addEventListener('abort', () => s.close(), { once: true });
    if (out.cancelled) s.close();
  }
  const until = req.until;
  const flowResponse = (flow: Flow): GetFlowsResponse => ({ flow: applyFieldMask(flow, mask), node_name: flow.node_name, time: flow.time });
  // A collector's response goes out as it came unless this follower needs the flow's fields:
  // the collector applied its filters and, without a scope, its field mask (maskAtSource); a
  // scope is checked here, on the whole flow, and the mask applied after it.
  const forwardRaw = !scope;
  try {
    for (const status of deps.preamble?.() ?? []) {
      await out.write({ node_status: status, node_name: deps.serverNodeName, time: nowTimestamp() });
    }
    // A resumed follow (the relay's) reads the ring after its cursor even without number/since.
    const onlyNew = followOnlyNew && !resumed;
    if (!onlyNew) {
      const lost: LostEvent[] = [];
      const flushLost = async () => {
        while (lost.length > 0) await out.write({ lost_events: lost.shift()!, node_name: deps.serverNodeName, time: nowTimestamp() });
      };
      const history = deps.history.query({
        whitelist: req.whitelist ?? [],
        blacklist: req.blacklist ?? [],
        predicate,
        ...(scope ? { scope: [...scope] } : {}),
        since: req.since,
        until,
        number: resumed ? 0 : (req.number ?? 0),
        first: !!req.first,
        upTo: cut.upTo,
        after: cut.after,
        marks: cut.marks,
        signal: out.abort.signal,
        onLost: (ev) => {
          lost.push(ev);
        },
      });
      for await (const flow of history) {
        if (out.cancelled) break;
        await flushLost();
        if (scope && !flowInScope(flow, scope)) continue;
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
        if (it.status) {
          await out.write({ node_status: it.status, node_name: deps.serverNodeName, time: nowTimestamp() });
          continue;
        }
        const raw = it.raw;
        if (raw !== undefined && forwardRaw) {
          if (until && raw.compareTime(until) > 0) {
            sub.close();
            break;
          }
          if (req.since && raw.compareTime(req.since) < 0) continue;
          await out.write(raw.bytes);
          continue;
        }
        const flow = raw !== undefined ? raw.decode().flow : it.flow!;
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
