// source → decode → enrich → (ring + live followers): the collector's hot path. Records arrive
// in batches; each batch is decoded in one synchronous pass. The ring writes each flow into the
// Native blocks the shipper sends (blocks.ts), so shipping needs nothing more per flow.
import type { Flow, LostEvent } from '../proto/types.js';
import { LostEventSource } from '../proto/types.js';
import type { RawRecord, RecordSink } from './source.js';
import type { FlowRing } from './ring.js';
import type { LiveFeed } from '../observer/live.js';
import { nowTimestamp } from '../common/time.js';
import { LossCounters } from './loss.js';
import type { DecodeQueueSink } from './decode-queue.js';

export interface FlowDecoder {
  decode(rec: RawRecord): Flow | null;
  /** Extra flows derived from the record last decoded (L7 DNS records), taken right after decode(). */
  readonly l7Flows?: readonly Flow[];
}
export interface FlowEnricher {
  enrich(flow: Flow): void;
}
/** Where loss seen upstream goes on its way to the relay (the shipper). */
export interface LostEventSink {
  addLost(ev: LostEvent): void;
}

/** Sees every flow (metrics); beginBatch is called once before the flows of each batch. */
export interface FlowObserver {
  beginBatch(): void;
  process(flow: Flow): void;
}

export interface PipelineStats {
  recordsRead: number;
  flowsDecoded: number;
  recordsSkipped: number;
  perfLost: number;
}

export class CollectorPipeline implements RecordSink, DecodeQueueSink {
  readonly stats: PipelineStats = { recordsRead: 0, flowsDecoded: 0, recordsSkipped: 0, perfLost: 0 };
  /** Called once per batch with the number of flows it produced (rate and metrics hook). */
  onFlows: ((count: number) => void) | null = null;
  /** Per-flow metrics (Hubble's metric handlers), when enabled. */
  observer: FlowObserver | null = null;

  constructor(
    private readonly decoder: FlowDecoder,
    private readonly enricher: FlowEnricher | null,
    private readonly ring: FlowRing,
    private readonly live: LiveFeed,
    private readonly shipper: LostEventSink | null,
    readonly loss: LossCounters = new LossCounters(),
  ) {}

  records(batch: RawRecord[]): void {
    // Flows are offered to followers one by one: only those a follower reads become items (an
    // item keeps its flow alive until the follower takes it), none while nobody follows.
    const following = this.live.subscribers > 0;
    const ringBefore = this.ring.seen;
    this.stats.recordsRead += batch.length;
    const observer = this.observer;
    observer?.beginBatch();
    for (const rec of batch) {
      const flow = this.decoder.decode(rec);
      if (!flow) {
        this.stats.recordsSkipped++;
        continue;
      }
      this.emit(flow, following, observer);
      const extra = this.decoder.l7Flows;
      if (extra !== undefined) for (let i = 0; i < extra.length; i++) this.emit(extra[i], following, observer);
    }
    const flows = this.ring.seen - ringBefore;
    if (flows > 0) {
      this.live.advance(this.ring.seen);
      if (following) this.live.endOffers();
      this.onFlows?.(flows);
    }
  }

  private emit(flow: Flow, following: boolean, observer: FlowObserver | null): void {
    this.enricher?.enrich(flow);
    this.stats.flowsDecoded++;
    observer?.process(flow);
    // The ring's cursor is also the row's flow_seq in storage: the relay cuts history at the
    // stored cursor and asks this node's Observer API for the ring after it.
    const cursor = this.ring.push(flow);
    if (following) this.live.offer(cursor, flow);
  }

  /** The perf ring overwrote `count` records on `cpu` (a source's PERF_RECORD_LOST). */
  lost(cpu: number, count: number): void {
    this.stats.perfLost += count;
    this.loss.add(LostEventSource.PERF_EVENT_RING_BUFFER, count);
    const now = nowTimestamp();
    this.lostEvent({ source: LostEventSource.PERF_EVENT_RING_BUFFER, num_events_lost: count, cpu: { value: cpu }, first: now, last: now });
  }

  /** Sends a LostEvent down the stream: to the relay and to this node's followers. */
  lostEvent(ev: LostEvent): void {
    this.shipper?.addLost(ev);
    this.live.publish([{ cursor: Number.MAX_SAFE_INTEGER, lost: ev }]);
  }
}
