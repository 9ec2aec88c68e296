// The bounded queue between a source and the decode pipeline (Hubble's observer events queue).
// Sources hand over batches as fast as they read them (a perf ring must be drained promptly or
// the kernel overwrites it); decoding runs in slices of at most `sliceRecords` records per
// event-loop turn so gRPC serving and shipping stay responsive. When the queue holds
// `maxRecords`, new records are dropped (like Hubble, which drops the event that does not fit),
// counted in LossCounters as OBSERVER_EVENTS_QUEUE, and reported on the flow stream as one
// LostEvent at most once per second (Hubble's LostEventSendInterval) with the first and last
// drop times. Sources that can wait (files) use recordsPaced() and lose nothing: their batch is
// always taken (the queue may exceed its bound by that one batch) and they wait for room.
import type { LostEvent, Timestamp } from '../proto/types.js';
import { LostEventSource } from '../proto/types.js';
import { msToTimestamp } from '../common/time.js';
import type { RawRecord, RecordSink } from './source.js';
import type { LossCounters } from './loss.js';

export interface DecodeQueueOptions {
  /** Records queued at most (default 65,536). */
  maxRecords: number;
  /** Records decoded per event-loop turn (default 4,096). */
  sliceRecords: number;
  /** Minimum time between two LostEvents (default 1,000 ms). */
  lostEventIntervalMs: number;
}

export const DEFAULT_DECODE_QUEUE: DecodeQueueOptions = Object.freeze({ maxRecords: 65_536, sliceRecords: 4096, lostEventIntervalMs: 1000 });

/** Where the queue delivers: the pipeline (records, perf losses, and its own LostEvents). */
export interface DecodeQueueSink extends RecordSink {
  lostEvent(ev: LostEvent): void;
}

export class DecodeQueue implements RecordSink {
  private readonly opts: DecodeQueueOptions;
  private batches: RawRecord[][] = [];
  private headOffset = 0;
  private queued = 0;
  private scheduled = false;
  private lostPending = 0;
  private lostFirst: Timestamp | undefined;
  private lostLast: Timestamp | undefined;
  private lastLostSentMs = -Infinity;
  private lostTimer: NodeJS.Timeout | undefined;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Records dropped because the queue was full (also in LossCounters). */
  dropped = 0;

  constructor(
    private readonly sink: DecodeQueueSink,
    private readonly loss: LossCounters,
    opts: Partial<DecodeQueueOptions> = {},
    private readonly nowMs: () => number = Date.now,
  ) {
    this.opts = { ...DEFAULT_DECODE_QUEUE, ...opts };
    if (!Number.isInteger(this.opts.maxRecords) || this.opts.maxRecords < 1) throw new Error(`invalid decode queue size ${this.opts.maxRecords}`);
    if (!Number.isInteger(this.opts.sliceRecords) || this.opts.sliceRecords < 1) throw new Error(`invalid decode slice ${this.opts.sliceRecords}`);
  }

  /** Records waiting to be decoded. */
  get length(): number {
    return this.queued;
  }

  records(batch: RawRecord[]): void {
    const room = Math.max(0, this.opts.maxRecords - this.queued);
    if (batch.length > room) {
      const n = batch.length - room;
      this.drop(n);
      batch.length = room; // the newest records are the ones that do not fit
    }
    if (batch.length === 0) return;
    this.batches.push(batch);
    this.queued += batch.length;
    this.schedule();
  }

  /** Takes the whole batch (never drops) and resolves once the queue is at most half full. */
  recordsPaced(batch: RawRecord[]): Promise<void> {
    if (batch.length > 0) {
      this.batches.push(batch);
      this.queued += batch.length;
      this.schedule();
    }
    return this.waitForRoom();
  }

  /** Perf-ring losses are passed on at once: they happened before the queue. */
  lost(cpu: number, count: number): void {
    this.sink.lost(cpu, count);
  }

  /** Resolves when the queue is at most half full (for sources that can wait). */
  waitForRoom(): Promise<void> {
    if (this.queued <= this.opts.maxRecords / 2) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  /** Resolves once everything queued has been decoded (and a pending LostEvent sent). */
  idle(): Promise<void> {
    if (this.queued === 0 && this.lostPending === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Decodes everything queued now and sends a pending LostEvent, synchronously (shutdown). */
  flush(): void {
    while (this.queued > 0) this.slice(Number.MAX_SAFE_INTEGER);
    this.sendLost(true);
    this.settle();
  }

  private drop(n: number): void {
    const now = msToTimestamp(this.nowMs());
    if (this.lostPending === 0) this.lostFirst = now;
    this.lostLast = now;
    this.lostPending += n;
    this.dropped += n;
    this.loss.add(LostEventSource.OBSERVER_EVENTS_QUEUE, n);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.slice(this.opts.sliceRecords);
      this.sendLost(false);
      if (this.queued > 0) this.schedule();
      this.settle();
    });
  }

  private slice(max: number): void {
    let left = max;
    while (left > 0 && this.batches.length > 0) {
      const b = this.batches[0];
      const take = Math.min(left, b.length - this.headOffset);
      const chunk = this.headOffset === 0 && take === b.length ? b : b.slice(this.headOffset, this.headOffset + take);
      this.headOffset += take;
      if (this.headOffset >= b.length) {
        this.batches.shift();
        this.headOffset = 0;
      }
      this.queued -= take;
      left -= take;
      this.sink.records(chunk);
    }
  }

  // One LostEvent per interval; a later one carries everything dropped meanwhile.
  private sendLost(force: boolean): void {
    if (this.lostPending === 0) return;
    const now = this.nowMs();
    const wait = this.lastLostSentMs + this.opts.lostEventIntervalMs - now;
    if (!force && wait > 0) {
      if (this.lostTimer === undefined) {
        // Due when it fires; not unref'd: idle() waits for this event.
        this.lostTimer = setTimeout(() => {
          this.lostTimer = undefined;
          this.sendLost(true);
          this.settle();
        }, wait);
      }
      return;
    }
    if (this.lostTimer !== undefined) {
      clearTimeout(this.lostTimer);
      this.lostTimer = undefined;
    }
    this.lastLostSentMs = now;
    const ev: LostEvent = { source: LostEventSource.OBSERVER_EVENTS_QUEUE, num_events_lost: this.lostPending, first: this.lostFirst, last: this.lostLast };
    this.lostPending = 0;
    this.lostFirst = this.lostLast = undefined;
    this.sink.lostEvent(ev);
  }

  private settle(): void {
    if (this.roomWaiters.length > 0 && this.queued <= this.opts.maxRecords / 2) {
      const w = this.roomWaiters;
      this.roomWaiters = [];
      for (const r of w) r();
    }
    if (this.idleWaiters.length > 0 && this.queued === 0 && this.lostPending === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }
}
