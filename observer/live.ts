// Fan-out of live flows to followers. Every published item carries a cursor (a monotonically
// increasing number: the collector ring's write index); a subscriber remembers the cursor at
// subscription time so history (items <= cursor) and live (items > cursor) neither overlap nor
// leave a gap. The relay has no feed of its own: it follows the collectors' Observer APIs
// (relay/live-fanout.ts) and hands its followers the same LiveStream shape.
import type { Flow, LostEvent, NodeStatusEvent } from '../proto/types.js';
import { LostEventSource } from '../proto/types.js';
import { nowTimestamp } from '../common/time.js';
import type { RawFlowResponse } from './raw-response.js';

export interface LiveItem {
  cursor: number;
  flow?: Flow;
  /** A flow as a collector's encoded response (the relay's fan-out), already filtered by the
   * follower's whitelist and blacklist, which the collector applied. */
  raw?: RawFlowResponse;
  lost?: LostEvent;
  /** A node coming or going (the relay's fan-out). */
  status?: NodeStatusEvent;
}

/** What GetFlows reads live items from. */
export interface LiveStream {
  /** Waits for items; resolves [] once closed. */
  next(): Promise<LiveItem[]>;
  close(): void;
}

export class LiveSubscription implements LiveStream {
  private queue: LiveItem[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;
  private dropped = 0;
  private offersDropped = 0;

  constructor(
    readonly startCursor: number,
    private readonly maxBuffered: number,
    private readonly onClose: (s: LiveSubscription) => void,
    private readonly lostSource: number = LostEventSource.OBSERVER_EVENTS_QUEUE,
    private readonly onDrop?: (n: number) => void,
    private readonly accept?: (flow: Flow) => boolean,
  ) {}

  /** Called by the feed. Items at or below the start cursor belong to history and are skipped. */
  push(items: readonly LiveItem[]): void {
    if (this.closed) return;
    let dropped = 0;
    const accept = this.accept;
    for (const it of items) {
      if (it.cursor <= this.startCursor) continue;
      // Flows the reader would skip are not queued: they cost it no memory, and cannot lap it.
      if (accept !== undefined && it.flow !== undefined && !accept(it.flow)) continue;
      // Lost events and node status are never dropped: they are how the reader learns of losses.
      if (this.queue.length >= this.maxBuffered && it.lost === undefined && it.status === undefined) {
        dropped++;
        continue;
      }
      this.queue.push(it);
    }
    if (dropped > 0) {
      this.dropped += dropped;
      this.onDrop?.(dropped);
    }
    this.wake();
  }

  /** One flow, as a collector's pipeline offers them: a flow this reader skips becomes no item
   * at all. {@link endOffers} follows the batch's last offer. */
  offer(cursor: number, flow: Flow): void {
    if (this.closed || cursor <= this.startCursor) return;
    if (this.accept !== undefined && !this.accept(flow)) return;
    if (this.queue.length >= this.maxBuffered) {
      this.offersDropped++;
      return;
    }
    this.queue.push({ cursor, flow });
  }

  /** Ends a batch of offers: counts what overflowed and wakes the reader. */
  endOffers(): void {
    if (this.closed) return;
    const dropped = this.offersDropped;
    if (dropped > 0) {
      this.offersDropped = 0;
      this.dropped += dropped;
      this.onDrop?.(dropped);
    }
    if (this.queue.length > 0 || this.dropped > 0) this.wake();
  }

  /** Waits for items; resolves [] when closed. A slow reader sees a LostEvent for what overflowed. */
  async next(): Promise<LiveItem[]> {
    while (!this.closed && this.queue.length === 0 && this.dropped === 0) {
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
    if (this.closed) return [];
    const out = this.queue;
    this.queue = [];
    if (this.dropped > 0) {
      const now = nowTimestamp();
      out.push({ cursor: Number.MAX_SAFE_INTEGER, lost: { source: this.lostSource, num_events_lost: this.dropped, first: now, last: now } });
      this.dropped = 0;
    }
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.wake();
    this.onClose(this);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

export class LiveFeed {
  private readonly subs = new Set<LiveSubscription>();
  private cursor = 0;

  /**
   * `lostSource` names what a subscriber that falls `maxBufferedPerSubscriber` items behind
   * loses: the relay's follower queue (OBSERVER_EVENTS_QUEUE), or, in a collector whose bound is
   * its ring capacity, the ring itself (HUBBLE_RING_BUFFER, as Hubble reports a lapped follower).
   */
  constructor(
    private readonly maxBufferedPerSubscriber = 65_536,
    private readonly opts: { lostSource?: number; onDrop?: (n: number) => void } = {},
  ) {}

  /** The cursor of the newest published item. */
  get lastCursor(): number {
    return this.cursor;
  }

  /**
   * Marks everything up to `cursor` as readable from history. Call it once the items are
   * visible there, before publishing them: publish order may differ from cursor order.
   */
  advance(cursor: number): void {
    if (cursor > this.cursor) this.cursor = cursor;
  }

  publish(items: readonly LiveItem[]): void {
    if (items.length === 0) return;
    for (const s of this.subs) s.push(items);
  }

  /** Offers one flow to every subscriber (see LiveSubscription.offer); call {@link endOffers}
   * after the batch, once {@link advance} has moved past its flows. */
  offer(cursor: number, flow: Flow): void {
    for (const s of this.subs) s.offer(cursor, flow);
  }

  endOffers(): void {
    for (const s of this.subs) s.endOffers();
  }

  /** `accept`: the flows the subscriber reads (its filters); the others are never queued for it. */
  subscribe(startCursor = this.cursor, accept?: (flow: Flow) => boolean): LiveSubscription {
    const s = new LiveSubscription(startCursor, this.maxBufferedPerSubscriber, (x) => this.subs.delete(x), this.opts.lostSource, this.opts.onDrop, accept);
    this.subs.add(s);
    return s;
  }

  get subscribers(): number {
    return this.subs.size;
  }
}
