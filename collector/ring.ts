// The collector's bounded ring of recent flows (Hubble keeps 4,095 per node). Each flow's cursor
// is its position, so the Observer API can split history from live exactly. The ring holds the
// flows as the Native blocks they were written into (blocks.ts), the same bytes the collector
// ships, and rebuilds Flow objects only for a reader, as storage does for a query.
import type { Flow } from '../proto/types.js';
import { LostEventSource } from '../proto/types.js';
import type { FlowHistory, HistoryQuery } from '../observer/get-flows.js';
import { compareTimestamps, nowTimestamp } from '../common/time.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { blockFlowReader } from '../schema/native/flow-block.js';
import type { LossCounters } from './loss.js';
import { FlowBlocks, type FinishedBlock } from './blocks.js';
import type { BlockLease } from './block-pool.js';
import { BATCH_HEADROOM } from './ship/batch-message.js';

interface RingBlock {
  block: Buffer;
  lease: BlockLease | null;
  first: number;
  rows: number;
  /** Reads the block's rows as flows (once a reader needed one), and those it built. */
  reader: ((row: number) => Flow) | null;
  flows: Array<Flow | undefined> | null;
}

// Rebuilding a flow from its row costs tens of microseconds: a reader of the whole ring lets the
// collector's loop run (and read the perf ring) every this many flows.
const YIELD_EVERY = 256;

/** Flows a ring keeps unless told otherwise (Hubble's default ring size). */
export const DEFAULT_RING_CAPACITY = 4095;

export class FlowRing implements FlowHistory {
  /** Finished blocks holding the newest `capacity` cursors, oldest first. */
  private readonly blocks: RingBlock[] = [];
  private written = 0; // total flows ever written; the cursor of flow n is n
  readonly capacity: number;
  private readonly rows: FlowBlocks;

  /**
   * Overwriting the oldest flow is the ring working as designed; a flow is lost only for a reader
   * that had not reached it yet (Hubble's ring: a lapped reader gets HUBBLE_RING_BUFFER
   * LostEvents). Such losses are counted here. `rows`: where flows are written (shared with the
   * shipper, which ships the same blocks); absent, the ring writes blocks of its own.
   */
  constructor(
    capacity = DEFAULT_RING_CAPACITY,
    private readonly loss?: LossCounters,
    rows?: FlowBlocks,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`invalid ring capacity ${capacity}`);
    this.capacity = capacity;
    this.rows = rows ?? new FlowBlocks('', { maxDelayMs: 0 });
    this.rows.onBlock((b) => this.keep(b));
  }

  /** Appends a flow; returns its cursor (1-based). The oldest flow leaves once the ring is full. */
  push(flow: Flow): number {
    const cursor = ++this.written;
    this.rows.add(flow, cursor);
    return cursor;
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
    this.rows.cut();
    const lo = Math.max(from, this.written - this.capacity);
    for (let c = lo + 1; c <= Math.min(to, this.written); c++) {
      const f = this.flowAt(c);
      if (f !== undefined) yield f;
    }
  }

  async *query(q: HistoryQuery): AsyncIterable<Flow> {
    // Rows still being written go into a block now, so the reader sees every flow up to `upTo`.
    this.rows.cut();
    const upTo = Math.min(q.upTo, this.written);
    const inRange = (f: Flow) => (!q.since || compareTimestamps(f.time, q.since) >= 0) && (!q.until || compareTimestamps(f.time, q.until) <= 0);
    if (q.first || q.number === 0) {
      // The writer may lap this reader while it waits on a slow client between yields. A resume
      // (q.after, the relay's history mark) older than the ring's oldest flow is such a lap too:
      // what lies between was overwritten before the relay could read it.
      let n = 0;
      const start = q.after !== undefined ? Math.max(0, q.after) : Math.max(0, this.written - this.capacity);
      for (let c = start + 1; c <= upTo; c++) {
        if ((c - start) % YIELD_EVERY === 0) await nextTurn();
        const oldest = this.written - this.capacity + 1;
        if (c < oldest) {
          const lost = oldest - c;
          this.loss?.add(LostEventSource.HUBBLE_RING_BUFFER, lost);
          const now = nowTimestamp();
          q.onLost?.({ source: LostEventSource.HUBBLE_RING_BUFFER, num_events_lost: lost, first: now, last: now });
          c = oldest;
        }
        const f = this.flowAt(c);
        if (f !== undefined && inRange(f) && q.predicate(f)) {
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
      if ((upTo - c + 1) % YIELD_EVERY === 0) {
        await nextTurn();
        if (c <= this.written - this.capacity) break; // lapped while waiting: the rest is gone
      }
      const f = this.flowAt(c);
      if (f === undefined) continue;
      if (q.since && compareTimestamps(f.time, q.since) < 0) break;
      if (inRange(f) && q.predicate(f)) picked.push(f);
    }
    for (let i = picked.length - 1; i >= 0; i--) yield picked[i];
  }

  private keep(b: FinishedBlock): void {
    if (b.first <= 0) return;
    b.lease?.hold();
    this.blocks.push({ block: b.framed.subarray(BATCH_HEADROOM), lease: b.lease, first: b.first, rows: b.rows, reader: null, flows: null });
    const oldest = this.written - this.capacity + 1;
    while (this.blocks.length > 0 && this.blocks[0].first + this.blocks[0].rows <= oldest) this.blocks.shift()!.lease?.release();
  }

  /** The flow at `cursor`, undefined when no block holds it (a block that failed to be written). */
  private flowAt(cursor: number): Flow | undefined {
    const blocks = this.blocks;
    for (let k = blocks.length - 1; k >= 0; k--) {
      const b = blocks[k];
      if (cursor < b.first) continue;
      if (cursor >= b.first + b.rows) return undefined;
      if (b.reader === null) {
        b.reader = blockFlowReader(b.block).flow;
        b.flows = new Array<Flow | undefined>(b.rows);
      }
      const row = cursor - b.first;
      return (b.flows![row] ??= b.reader(row));
    }
    return undefined;
  }
}
