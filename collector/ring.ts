// The collector's bounded ring of recent flows (Hubble keeps 4,095 per node). Each slot's
// position is its cursor, so the Observer API can split history from live exactly.
import type { Flow } from '../proto/types.js';
import { LostEventSource } from '../proto/types.js';
import type { FlowHistory, HistoryQuery } from '../observer/get-flows.js';
import { compareTimestamps, nowTimestamp } from '../common/time.js';
import type { LossCounters } from './loss.js';

export class FlowRing implements FlowHistory {
  private readonly slots: (Flow | undefined)[];
  private written = 0; // total flows ever written; slot of flow n is n % capacity
  readonly capacity: number;

  /**
   * Overwriting the oldest flow is the ring working as designed; a flow is lost only for a reader
   * that had not reached it yet (Hubble's ring: a lapped reader gets HUBBLE_RING_BUFFER
   * LostEvents). Such losses are counted here.
   */
  constructor(
    capacity = 4095,
    private readonly loss?: LossCounters,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`invalid ring capacity ${capacity}`);
    this.capacity = capacity;
    this.slots = new Array(capacity);
  }

  /** Appends a flow; returns its cursor (1-based). Overwrites the oldest when full. */
  push(flow: Flow): number {
    this.slots[this.written % this.capacity] = flow;
    return ++this.written;
  }

  get length(): number {
    return Math.min(this.written, this.capacity);
  }
  get seen(): number {
    return this.written;
  }
  /** Flows overwritten before anyone could read them from the ring. */
  get overwritten(): number {
    return Math.max(0, this.written - this.capacity);
  }

  /** Flows with cursor in (from, to], oldest first. */
  *range(from: number, to: number): Generator<Flow> {
    const lo = Math.max(from, this.written - this.capacity);
    for (let c = lo + 1; c <= Math.min(to, this.written); c++) yield this.slots[(c - 1) % this.capacity]!;
  }

  async *query(q: HistoryQuery): AsyncIterable<Flow> {
    const upTo = Math.min(q.upTo, this.written);
    const inRange = (f: Flow) => (!q.since || compareTimestamps(f.time, q.since) >= 0) && (!q.until || compareTimestamps(f.time, q.until) <= 0);
    if (q.first || q.number === 0) {
      // The writer may lap this reader while it waits on a slow client between yields. A resume
      // (q.after, the relay's history mark) older than the ring's oldest flow is such a lap too:
      // what lies between was overwritten before the relay could read it.
      let n = 0;
      const start = q.after !== undefined ? Math.max(0, q.after) : Math.max(0, this.written - this.capacity);
      for (let c = start + 1; c <= upTo; c++) {
        const oldest = this.written - this.capacity + 1;
        if (c < oldest) {
          const lost = oldest - c;
          this.loss?.add(LostEventSource.HUBBLE_RING_BUFFER, lost);
          const now = nowTimestamp();
          q.onLost?.({ source: LostEventSource.HUBBLE_RING_BUFFER, num_events_lost: lost, first: now, last: now });
          c = oldest;
        }
        const f = this.slots[(c - 1) % this.capacity]!;
        if (inRange(f) && q.predicate(f)) {
          yield f;
          if (q.number && ++n >= q.number) return;
        }
      }
      return;
    }
    // Newest `number` matches, walking back, then returned oldest first.
    const picked: Flow[] = [];
    const lo = Math.max(0, upTo - this.capacity, this.written - this.capacity);
    for (let c = upTo; c > lo && picked.length < q.number; c--) {
      const f = this.slots[(c - 1) % this.capacity]!;
      if (q.since && compareTimestamps(f.time, q.since) < 0) break;
      if (inRange(f) && q.predicate(f)) picked.push(f);
    }
    for (let i = picked.length - 1; i >= 0; i--) yield picked[i];
  }
}
