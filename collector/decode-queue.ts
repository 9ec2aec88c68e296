// The bounded queue between a source and the decode pipeline (Hubble's observer events queue).
// Sources hand over batches as fast as they read them (a perf ring must be drained promptly or
// the kernel overwrites it); decoding runs in slices of at most `sliceRecords` records per
// event-loop turn so gRPC serving and shipping stay responsive. The queue is bounded twice: in
// records (`maxRecords`) and in bytes (`maxBytes`, each record's payload plus the JS objects that
// carry it), so large records cannot hold more memory than small ones. What does not fit is
// dropped (like Hubble, which drops the event that does not fit), counted in LossCounters as
// OBSERVER_EVENTS_QUEUE, and reported on the flow stream as one LostEvent at most once per second
// (Hubble's LostEventSendInterval) with the first and last drop times. Live sources that can
// leave records where they are (the synthetic ring) ask `room()` first and read no more than
// fits; what they leave is lost in their ring and counted there (PERF_EVENT_RING_BUFFER).
// Sources that can wait (files) use recordsPaced() and lose nothing: they hand over what fits
// and wait for room for the rest, so the bounds hold for them too.
import type { LostEvent, Timestamp } from '../proto/types.js';
import { LostEventSource } from '../proto/types.js';
import { msToTimestamp } from '../common/time.js';
import type { RawRecord, RecordSink } from './source.js';
import type { LossCounters } from './loss.js';

export interface DecodeQueueOptions {
  /** Records queued at most (default 65,536). */
  maxRecords: number;
  /** Bytes queued at most: payloads plus RECORD_OVERHEAD_BYTES a record (default 4 MiB: about 10,000 records of 150 bytes). */
  maxBytes: number;
  /** Records decoded per event-loop turn (default 4,096). */
  sliceRecords: number;
  /** Minimum time between two LostEvents (default 1,000 ms). */
  lostEventIntervalMs: number;
}

export const DEFAULT_DECODE_QUEUE: DecodeQueueOptions = Object.freeze({
  maxRecords: 65_536,
  maxBytes: 4 * 1024 ** 2,
  sliceRecords: 4096,
  lostEventIntervalMs: 1000,
});

/**
 * What a queued record costs beside its payload: the RawRecord object, its Uint8Array view and,
 * when it owns one, its ArrayBuffer (about 220 bytes of V8 heap in a heap snapshot of a
 * collector at 100k records/s), so a queue of small records is bounded by what it really holds.
 */
export const RECORD_OVERHEAD_BYTES = 256;

/** Memory a record holds while queued (its payload and RECORD_OVERHEAD_BYTES). */
export function recordBytes(rec: RawRecord): number {
  return rec.data.byteLength + RECORD_OVERHEAD_BYTES;
}

/** Where the queue delivers: the pipeline (records, perf losses, and its own LostEvents). */
export interface DecodeQueueSink extends RecordSink {
  lostEvent(ev: LostEvent): void;
}

export class DecodeQueue implements RecordSink {
  private readonly opts: DecodeQueueOptions;
  private batches: RawRecord[][] = [];
  private headOffset = 0;
  private queued = 0;
  private queuedBytes = 0;
  private scheduled = false;
  private lostPending = 0;
  private lostFirst: Timestamp | undefined;
  private lostLast: Timestamp | undefined;
  private lastLostSentMs = -Infinity;
  private lostTimer: NodeJS.Timeout | undefined;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private emptyWaiters: (() => void)[] = [];
  /** Records dropped because the queue was full (also in LossCounters). */
  dropped = 0;
  /** Records taken into the queue so far (each is decoded, or still queued). */
  accepted = 0;
  private acceptedBytes = 0;
  /** The most records and bytes the queue ever held (its bounds hold: tests and metrics read them). */
  peakRecords = 0;
  peakBytes = 0;

  constructor(
    private readonly sink: DecodeQueueSink,
    private readonly loss: LossCounters,
    opts: Partial<DecodeQueueOptions> = {},
    private readonly nowMs: () => number = Date.now,
  ) {
    this.opts = { ...DEFAULT_DECODE_QUEUE, ...opts };
    if (!Number.isInteger(this.opts.maxRecords) || this.opts.maxRecords < 1) throw new Error(`invalid decode queue size ${this.opts.maxRecords}`);
    if (!Number.isInteger(this.opts.maxBytes) || this.opts.maxBytes < 1) throw new Error(`invalid decode queue bytes ${this.opts.maxBytes}`);
    if (!Number.isInteger(this.opts.sliceRecords) || this.opts.sliceRecords < 1) throw new Error(`invalid decode slice ${this.opts.sliceRecords}`);
  }

  /** Records waiting to be decoded. */
  get length(): number {
    return this.queued;
  }

  /** Bytes the waiting records hold (see recordBytes). */
  get bytes(): number {
    return this.queuedBytes;
  }

  /**
   * Records a live source may hand over now without any being dropped: the record bound's room,
   * and the byte bound's room in records of the average size queued so far (0 when either bound
   * is reached).
   */
  room(): number {
    const bytesLeft = this.opts.maxBytes - this.queuedBytes;
    if (bytesLeft <= 0) return 0;
    const avg = this.accepted > 0 ? this.acceptedBytes / this.accepted : RECORD_OVERHEAD_BYTES;
    return Math.max(0, Math.min(this.opts.maxRecords - this.queued, Math.floor(bytesLeft / avg)));
  }

  records(batch: RawRecord[]): void {
    const n = this.fit(batch, 0);
    if (n < batch.length) {
      this.drop(batch.length - n);
      batch.length = n; // the newest records are the ones that do not fit
    }
    if (n > 0) this.enqueue(batch);
  }

  /**
   * Never drops: hands over as much of the batch as fits, waits for room for the rest, and
   * resolves once all of it is queued and the queue is at most half full.
   */
  async recordsPaced(batch: RawRecord[]): Promise<void> {
    let from = 0;
    while (from < batch.length) {
      const n = this.fit(batch, from);
      if (n === 0) {
        // Half empty and still no room: the next record is larger than half the byte bound;
        // an empty queue takes it.
        await (this.halfEmpty() ? this.waitForEmpty() : this.waitForRoom());
        continue;
      }
      this.enqueue(from === 0 && n === batch.length ? batch : batch.slice(from, from + n));
      from += n;
    }
    return this.waitForRoom();
  }

  /**
   * How many records of `batch` from `from` on fit under both bounds. An empty queue always
   * takes one record, however large, so a paced source cannot wait forever.
   */
  private fit(batch: readonly RawRecord[], from: number): number {
    const n = Math.min(batch.length - from, Math.max(0, this.opts.maxRecords - this.queued));
    let bytes = this.queuedBytes;
    for (let i = 0; i < n; i++) {
      bytes += recordBytes(batch[from + i]);
      if (bytes > this.opts.maxBytes) return i === 0 && this.queued === 0 ? 1 : i;
    }
    return n;
  }

  private enqueue(batch: RawRecord[]): void {
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) bytes += recordBytes(batch[i]);
    this.batches.push(batch);
    this.queued += batch.length;
    this.queuedBytes += bytes;
    this.accepted += batch.length;
    this.acceptedBytes += bytes;
    if (this.queued > this.peakRecords) this.peakRecords = this.queued;
    if (this.queuedBytes > this.peakBytes) this.peakBytes = this.queuedBytes;
    this.schedule();
  }

  /** Perf-ring losses are passed on at once: they happened before the queue. */
  lost(cpu: number, count: number): void {
    this.sink.lost(cpu, count);
  }

  /** Resolves when the queue is at most half full, in records and bytes (for sources that can wait). */
  waitForRoom(): Promise<void> {
    if (this.halfEmpty()) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  private waitForEmpty(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((r) => this.emptyWaiters.push(r));
  }

  private halfEmpty(): boolean {
    return this.queued <= this.opts.maxRecords / 2 && this.queuedBytes <= this.opts.maxBytes / 2;
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
      for (let i = 0; i < chunk.length; i++) this.queuedBytes -= recordBytes(chunk[i]);
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
    if (this.roomWaiters.length > 0 && this.halfEmpty()) {
      const w = this.roomWaiters;
      this.roomWaiters = [];
      for (const r of w) r();
    }
    if (this.emptyWaiters.length > 0 && this.queued === 0) {
      const w = this.emptyWaiters;
      this.emptyWaiters = [];
      for (const r of w) r();
    }
    if (this.idleWaiters.length > 0 && this.queued === 0 && this.lostPending === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
  }
}
