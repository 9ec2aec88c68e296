// The live half of the relay's GetFlows, built the way Hubble Relay builds it: one GetFlows
// follow stream per collector, to the collector's own Observer API (its ring), with the
// request's filters pushed down, merged in time order per follower. Storage is not on this
// path, so live latency does not depend on insert latency, and any relay can serve any
// collector (nothing here depends on the relay that ingested a flow).
//
// Handover. History comes from ClickHouse cut at a marks snapshot (storage liveMarks(): per
// collector session, the greatest flow_seq stored); each collector is asked to resume after its
// session's mark (observer/resume.ts), so its ring supplies exactly the flows history left out:
// no gap, no duplicate. A collector whose session is not in the snapshot (it stored nothing yet,
// or restarted since) is served from the start of its ring; a ring that lapped the mark reports a
// HUBBLE_RING_BUFFER LostEvent, which is forwarded.
import * as grpc from '@grpc/grpc-js';
import type { FlowFilter, GetFlowsRequest, Timestamp } from '../proto/types.js';
import { LostEventSource, NodeState } from '../proto/types.js';
import type { Logger } from '../common/logger.js';
import { compareTimestamps, nowTimestamp } from '../common/time.js';
import { LiveSubscription, type LiveItem, type LiveStream } from '../observer/live.js';
import { RESUME_HEADER, SESSION_HEADER, formatResume } from '../observer/resume.js';
import { TimeOrderMerger } from './merge.js';
import type { NodeRecord } from './nodes.js';
import type { PeerClients, PeerResponse } from './peers.js';
import { RawFlowResponse } from '../observer/raw-response.js';

export interface FanoutOptions {
  /** Items a follower may have waiting (merged, not yet written); beyond it flows are dropped and counted. */
  maxBuffered: number;
  /** How long the merge holds a flow for the other collectors' flows of the same time. */
  mergeMaxDelayMs: number;
  /** How often a follower looks for collectors that came or went. */
  pollMs: number;
}

export const DEFAULT_FANOUT_OPTIONS: FanoutOptions = { maxBuffered: 65_536, mergeMaxDelayMs: 250, pollMs: 500 };

export interface FanoutStats {
  /** Followers open now. */
  followers: number;
  /** Collector streams open now, over all followers. */
  peerStreams: number;
  /** Flows dropped because a follower fell maxBuffered behind (it got a LostEvent). */
  dropped: number;
  /** Collector streams that failed or ended while followed. */
  peerErrors: number;
  /** Streams where the collector answered with another session than the one resumed (it restarted). */
  sessionMismatches: number;
}

/** Which collectors to follow: the registry's public view (the relay's own ingest streams, and
 * whatever else NodeRegistry learns to list). */
export interface FollowableNodes {
  connected(): NodeRecord[];
}

interface PeerStream {
  node: string;
  /** The node's session in the registry when the stream started (a change means a restart). */
  registered: string;
  /** The session whose ring the stream reads (the collector's answer, else the one asked for). */
  session: string;
  call: grpc.ClientReadableStream<PeerResponse>;
  ended: boolean;
}

const NO_ITEMS: LiveItem[] = [];

export class LiveFanout {
  readonly stats: FanoutStats = { followers: 0, peerStreams: 0, dropped: 0, peerErrors: 0, sessionMismatches: 0 };

  constructor(
    readonly nodes: FollowableNodes,
    readonly peers: PeerClients,
    readonly log: Logger,
    readonly opts: FanoutOptions = DEFAULT_FANOUT_OPTIONS,
  ) {}

  /**
   * Opens the collector streams of one follower. `marks` null: only new flows (a follow
   * without history); otherwise the snapshot its history was cut at.
   */
  open(req: GetFlowsRequest, marks: ReadonlyMap<string, number> | null, maskAtSource = false): LiveStream {
    return new FollowerStream(this, req, marks, maskAtSource);
  }
}

class FollowerStream implements LiveStream {
  private readonly queue: LiveSubscription;
  private readonly merger: TimeOrderMerger;
  private readonly streams = new Map<string, PeerStream>();
  /** Per collector session, the time of the last flow it delivered to this follower. */
  private readonly lastTime = new Map<string, Timestamp>();
  private readonly openedAt = nowTimestamp();
  private readonly peerReq: GetFlowsRequest;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private first = true;

  constructor(
    private readonly fanout: LiveFanout,
    req: GetFlowsRequest,
    private readonly marks: ReadonlyMap<string, number> | null,
    maskAtSource: boolean,
  ) {
    const { opts, stats } = fanout;
    // Filters and since go down, and the field mask when the follower allows it, as Hubble Relay
    // sends its request to its peers: the merge orders by each response's own time, which a mask
    // leaves. Number and until stay here: the relay applies them to the merged stream (a
    // collector ending at `until` would look like one going away).
    this.peerReq = { follow: true, whitelist: copyFilters(req.whitelist), blacklist: copyFilters(req.blacklist) };
    if (maskAtSource && req.field_mask?.paths?.length) this.peerReq.field_mask = { paths: [...req.field_mask.paths] };
    if (maskAtSource && req.experimental?.field_mask?.paths?.length)
      this.peerReq.experimental = { field_mask: { paths: [...req.experimental.field_mask.paths] } };
    // Only with a resume: without one, a collector treats a follow with since as history + live.
    if (marks !== null && req.since) this.peerReq.since = req.since;
    this.queue = new LiveSubscription(
      -1,
      opts.maxBuffered,
      () => this.close(),
      LostEventSource.OBSERVER_EVENTS_QUEUE,
      (n) => (stats.dropped += n),
    );
    this.merger = new TimeOrderMerger((items) => this.queue.push(items), {
      maxDelayMs: opts.mergeMaxDelayMs,
      maxBuffered: opts.maxBuffered,
      tickMs: Math.max(10, Math.min(50, opts.mergeMaxDelayMs / 5)),
    });
    this.merger.start();
    stats.followers++;
    this.sync();
    this.first = false;
    this.timer = setInterval(() => this.sync(), opts.pollMs);
    this.timer.unref();
  }

  next(): Promise<LiveItem[]> {
    return this.closed ? Promise.resolve(NO_ITEMS) : this.queue.next();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const s of this.streams.values()) this.end(s, false);
    this.streams.clear();
    this.merger.stop();
    this.queue.close();
    this.fanout.stats.followers--;
  }

  /** Follows collectors that appeared, drops those that went away. */
  private sync(): void {
    if (this.closed) return;
    const { nodes, log } = this.fanout;
    let list: NodeRecord[];
    try {
      list = nodes.connected();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'listing collectors to follow failed');
      return;
    }
    const seen = new Set<string>();
    for (const n of list) {
      if (!n.observerAddress) continue; // no Observer API: its flows are history only
      seen.add(n.name);
      const cur = this.streams.get(n.name);
      if (cur && !cur.ended && cur.registered === n.session) continue;
      if (cur && !cur.ended) this.end(cur, false); // the node restarted: a new session, a new ring
      this.startPeer(n);
    }
    for (const [name, s] of this.streams) {
      if (seen.has(name)) continue;
      this.streams.delete(name);
      if (!s.ended) {
        this.end(s, false);
        this.status(NodeState.NODE_UNAVAILABLE, name);
      }
    }
  }

  /** `session`: the collector's session when it is known to differ from the registry's;
   * `announce`: tell the follower the node is (again) connected. */
  private startPeer(n: NodeRecord, session = n.session, announce = !this.first): void {
    const { peers, log } = this.fanout;
    const stats = this.fanout.stats;
    const md = new grpc.Metadata();
    let req = this.peerReq;
    let resumeFrom: number | null = null;
    const last = this.lastTime.get(session);
    if (last !== undefined) {
      // Again after a failure: the flows newer than the last one it delivered (its ring, by time).
      req = { ...req, since: laterOf(req.since, nextNanosecond(last)) };
    } else if (this.marks !== null) {
      // Where this follower's history stops (0: it holds none of this session, so the ring's start).
      resumeFrom = this.marks.get(session) ?? 0;
      try {
        md.set(RESUME_HEADER, formatResume(new Map([[session, resumeFrom]])));
      } catch (err) {
        log.warn({ node: n.name, err: (err as Error).message }, 'cannot resume this collector; following its flows since the follow began');
        resumeFrom = null;
        req = { ...req, since: laterOf(req.since, this.openedAt) };
      }
    } else {
      // A follow of new flows only: each collector's flows since the follow began, also for the
      // collectors already connected, so the time it takes to open the streams (seconds on a busy
      // relay) is no gap; the record times come from the nodes' clocks.
      req = { ...req, since: this.openedAt };
    }
    const call = peers.getFlows(n.observerAddress, n.name, req, md);
    const s: PeerStream = { node: n.name, registered: n.session, session, call, ended: false };
    this.streams.set(n.name, s);
    stats.peerStreams++;
    this.merger.addSource(n.name);
    if (announce) this.status(NodeState.NODE_CONNECTED, n.name);
    // A resumed stream is used only once the collector confirmed the session (its response
    // header): gRPC may hand over the first messages before the header event, so they wait.
    let confirmed = resumeFrom === null;
    let early: PeerResponse[] = [];
    const take = (res: PeerResponse) => {
      if (res instanceof RawFlowResponse) {
        this.lastTime.set(s.session, res.time);
        this.merger.addOne(n.name, { cursor: 0, raw: res });
      } else if (res.flow) {
        if (res.flow.time) this.lastTime.set(s.session, res.flow.time);
        this.merger.addOne(n.name, { cursor: 0, flow: res.flow });
      } else if (res.lost_events) this.queue.push([{ cursor: 0, lost: res.lost_events }]);
    };
    call.on('metadata', (m: grpc.Metadata) => {
      if (s.ended || confirmed) return;
      const v = m.get(SESSION_HEADER)[0];
      const got = v === undefined ? session : String(v);
      confirmed = true;
      const held = early;
      early = [];
      if (got === session) {
        for (const res of held) take(res);
        return;
      }
      // The registry's session is not the collector's (a replay of an earlier run's spill said
      // Hello under its own session, or the collector restarted): it serves its ring from the
      // start, repeating what history holds. Ask again with its real session's mark.
      stats.sessionMismatches++;
      log.debug({ node: n.name, want: session, got }, 'collector answered with another session; resuming with its own');
      this.end(s, false);
      if (!this.closed) this.startPeer(n, got, false);
    });
    call.on('data', (res: PeerResponse) => {
      if (s.ended) return;
      if (confirmed) take(res);
      else if (early.length < this.fanout.opts.maxBuffered) early.push(res);
      else {
        // Bounded: a collector that never confirms is not followed.
        this.end(s, false);
        this.status(NodeState.NODE_UNAVAILABLE, n.name);
      }
    });
    const gone = (err?: grpc.ServiceError) => {
      if (s.ended) return;
      this.end(s, true);
      if (this.closed) return;
      stats.peerErrors++;
      log.debug({ node: n.name, err: err?.message ?? 'stream ended' }, 'collector stream ended while followed');
      this.status(NodeState.NODE_UNAVAILABLE, n.name);
    };
    call.on('error', gone);
    call.on('end', () => gone());
  }

  private end(s: PeerStream, byPeer: boolean): void {
    if (s.ended) return;
    s.ended = true;
    this.fanout.stats.peerStreams--;
    this.merger.removeSource(s.node);
    if (!byPeer) s.call.cancel();
  }

  private status(state: (typeof NodeState)[keyof typeof NodeState], node: string): void {
    this.queue.push([{ cursor: 0, status: { state_change: state, node_names: [node] } }]);
  }
}

function nextNanosecond(t: Timestamp): Timestamp {
  const nanos = (t.nanos ?? 0) + 1;
  return nanos >= 1e9 ? { seconds: (t.seconds ?? 0) + 1, nanos: 0 } : { seconds: t.seconds ?? 0, nanos };
}

function laterOf(a: Timestamp | undefined, b: Timestamp): Timestamp {
  return a !== undefined && compareTimestamps(a, b) > 0 ? a : b;
}

function copyFilters(fs: FlowFilter[] | undefined): FlowFilter[] {
  return fs ? [...fs] : [];
}
