// Every flow the collector loses, counted by where it was lost, with Hubble's LostEventSource
// names (hubble_lost_events_total{source=...} uses the same values in lower case):
//   perf_event_ring_buffer  the kernel overwrote records before the reader got them
//                           (a source reports them through RecordSink.lost; CollectorPipeline counts)
//   observer_events_queue   the decode queue was full (DecodeQueue), or the relay was away longer
//                           than the shipper's backlog allows (Shipper)
//   hubble_ring_buffer      a reader of the flow ring fell more than a ring's worth behind the
//                           writer: a follower (LiveFeed) or a history read lapped by new flows
// One LossCounters object per collector, created in collector/main.ts; read `snapshot()` to
// export metrics. Every add() is also a LostEvent on the flow stream (except the shipper's,
// which reports its own to the relay).
import { LostEventSource } from '../proto/types.js';

export type LossSource =
  typeof LostEventSource.PERF_EVENT_RING_BUFFER | typeof LostEventSource.OBSERVER_EVENTS_QUEUE | typeof LostEventSource.HUBBLE_RING_BUFFER;

/** Counter values keyed like Hubble's metric label `source`. */
export interface LossSnapshot {
  perf_event_ring_buffer: number;
  observer_events_queue: number;
  hubble_ring_buffer: number;
}

export const LOSS_SOURCE_LABELS: Readonly<Record<LossSource, keyof LossSnapshot>> = Object.freeze({
  [LostEventSource.PERF_EVENT_RING_BUFFER]: 'perf_event_ring_buffer',
  [LostEventSource.OBSERVER_EVENTS_QUEUE]: 'observer_events_queue',
  [LostEventSource.HUBBLE_RING_BUFFER]: 'hubble_ring_buffer',
} as const);

export class LossCounters {
  private readonly counts: LossSnapshot = { perf_event_ring_buffer: 0, observer_events_queue: 0, hubble_ring_buffer: 0 };
  /** Called on every add (metrics can count here instead of polling). */
  onAdd: ((source: LossSource, n: number) => void) | null = null;

  add(source: LossSource, n: number): void {
    if (!(n > 0)) return;
    const label = LOSS_SOURCE_LABELS[source];
    if (label === undefined) throw new Error(`unknown lost-event source ${source}`);
    this.counts[label] += n;
    this.onAdd?.(source, n);
  }

  get(source: LossSource): number {
    return this.counts[LOSS_SOURCE_LABELS[source]];
  }

  /** A copy of the counters. */
  snapshot(): LossSnapshot {
    return { ...this.counts };
  }
}
