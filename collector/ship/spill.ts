// The shipper's on-disk spill queue: the oldest unacknowledged batches of one ingest session,
// moved out of memory when the in-memory backlog is at its bound (collector/ship/shipper.ts).
// Batches are opaque bytes with a sequence number and a flow count; several consecutive batches
// are written as one chunk, one record of a Spool (common/spool.ts):
//
//   [u32 magic "FSB1"][u32 n] then n × [u32 seq low][u32 seq high][u32 flows][u32 body bytes],
//   then the n bodies, all little-endian.
//
// In memory the queue keeps only an index (first and last sequence number and the flow count of
// every batch of every chunk); a chunk is read back when it is sent, one at a time.
//
// Durability: appends go to the kernel at once and are fsynced once a second and when a segment
// is full (Spool `fsync: 'segment'`, in the background: writes go on meanwhile), not per append. The queue protects against relay outages
// and collector restarts (the kernel keeps what a process wrote), which is what it is for; a
// machine crash can lose the last second of spilled batches, the in-memory backlog (which a
// machine crash loses anyway) notwithstanding. Per-append fsync measured 3× the cost of the write
// itself for 1.5 MB chunks; the batches are in any case still unacknowledged, so a relay that
// does not have them asks for them again after a reconnect.
import { promises as fs } from 'node:fs';
import { Spool } from '../../common/spool.js';
import type { Logger } from '../../common/logger.js';

/** One batch as the shipper holds it: encoded bytes, never looked into here. */
export interface SpillBatch {
  seq: number;
  count: number;
  body: Buffer;
}

export interface SpillStats {
  /** Batches and bytes written to disk (a batch is written once). */
  spilledBatches: number;
  spilledBytes: number;
  /** Batches read back from disk and sent to the relay (resends included). */
  replayedBatches: number;
  /** On disk now, over every session's queue: segment bytes, unacknowledged batches and flows. */
  queueBytes: number;
  queueBatches: number;
  queueFlows: number;
  /** Earlier runs' sessions found on disk at start and not replayed yet. */
  earlierSessions: number;
  /** Failed disk writes and reads (retried). */
  errors: number;
}

/** The disk budget and counters shared by a collector's queues (its session and earlier runs'). */
export class SpillBudget {
  readonly stats: SpillStats = {
    spilledBatches: 0,
    spilledBytes: 0,
    replayedBatches: 0,
    queueBytes: 0,
    queueBatches: 0,
    queueFlows: 0,
    earlierSessions: 0,
    errors: 0,
  };
  /** Bytes of writes in progress. */
  reserved = 0;

  constructor(readonly maxBytes: number) {}

  /** Whether a chunk of this many payload bytes fits in the budget. */
  hasRoomFor(payloadBytes: number): boolean {
    return this.stats.queueBytes + this.reserved + RECORD_OVERHEAD + payloadBytes <= this.maxBytes;
  }
}

export interface SpillChunk {
  /** Position in the queue's spool, counting every chunk ever appended or recovered. */
  readonly ord: number;
  readonly first: number;
  readonly last: number;
  /** Flows of batch `first + i`. */
  readonly counts: Uint32Array;
  readonly bytes: number;
  /** Highest sequence number of this chunk the relay acknowledged (first - 1: none). */
  ackedThrough: number;
}

// Ten minutes of a 10k flows/s node, with room to spare: 6M flows × 440 bytes (measured Native
// blocks, synthetic traffic) ≈ 2.5 GiB; 6 GiB covers 24 minutes, or 10 minutes of flows more
// than twice as large (rich L7 flows, long label sets). `flowscope collector --spill-max-bytes`.
export const DEFAULT_SPILL_MAX_BYTES = 6 * 1024 ** 3;

const MAGIC = 0x31425346; // "FSB1"
const HEAD_BYTES = 8;
const ENTRY_BYTES = 16;
/** Spool record header plus chunk header, roughly: what a chunk costs beyond its bodies. */
const RECORD_OVERHEAD = 8 + HEAD_BYTES;

export function chunkPayloadBytes(batches: readonly SpillBatch[]): number {
  let n = HEAD_BYTES + ENTRY_BYTES * batches.length;
  for (const b of batches) n += b.body.length;
  return n;
}

/** A chunk as the parts of one spool record: its header, then the bodies as they are (no copy). */
export function chunkParts(batches: readonly SpillBatch[]): Buffer[] {
  const head = Buffer.allocUnsafe(HEAD_BYTES + ENTRY_BYTES * batches.length);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(batches.length, 4);
  let entry = HEAD_BYTES;
  for (const b of batches) {
    head.writeUInt32LE(b.seq >>> 0, entry);
    head.writeUInt32LE(Math.floor(b.seq / 2 ** 32), entry + 4);
    head.writeUInt32LE(b.count, entry + 8);
    head.writeUInt32LE(b.body.length, entry + 12);
    entry += ENTRY_BYTES;
  }
  return [head, ...batches.map((b) => b.body)];
}

export function encodeChunk(batches: readonly SpillBatch[]): Buffer {
  return Buffer.concat(chunkParts(batches));
}

interface ChunkHeader {
  seqs: number[];
  counts: Uint32Array;
  lengths: number[];
}

function decodeHeader(payload: Buffer): ChunkHeader {
  if (payload.length < HEAD_BYTES || payload.readUInt32LE(0) !== MAGIC) throw new Error('not a spill chunk');
  const n = payload.readUInt32LE(4);
  if (n === 0 || HEAD_BYTES + ENTRY_BYTES * n > payload.length) throw new Error('spill chunk header out of bounds');
  const seqs: number[] = [];
  const counts = new Uint32Array(n);
  const lengths: number[] = [];
  let total = HEAD_BYTES + ENTRY_BYTES * n;
  for (let i = 0, at = HEAD_BYTES; i < n; i++, at += ENTRY_BYTES) {
    seqs.push(payload.readUInt32LE(at) + payload.readUInt32LE(at + 4) * 2 ** 32);
    counts[i] = payload.readUInt32LE(at + 8);
    lengths.push(payload.readUInt32LE(at + 12));
    total += lengths[i];
    if (i > 0 && seqs[i] !== seqs[i - 1] + 1) throw new Error('spill chunk sequence numbers are not consecutive');
  }
  if (total !== payload.length) throw new Error('spill chunk length does not match its header');
  return { seqs, counts, lengths };
}

/** The batches of a chunk; their bodies are views of `payload`. */
export function decodeChunk(payload: Buffer): SpillBatch[] {
  const h = decodeHeader(payload);
  const out: SpillBatch[] = [];
  let at = HEAD_BYTES + ENTRY_BYTES * h.seqs.length;
  for (let i = 0; i < h.seqs.length; i++) {
    out.push({ seq: h.seqs[i], count: h.counts[i], body: payload.subarray(at, at + h.lengths[i]) });
    at += h.lengths[i];
  }
  return out;
}

export interface SpillQueueOptions {
  dir: string;
  /** Spool segment size: disk space is given back a segment at a time. */
  segmentBytes: number;
  /** How often appended chunks are fsynced. */
  syncIntervalMs: number;
}

export class SpillQueue {
  private readonly chunks: SpillChunk[] = [];
  private head = 0;
  private nextOrd = 0;
  /** Spool records shifted so far (inside the operation chain). */
  private shifted = 0;
  private ops: Promise<unknown> = Promise.resolve();
  private countedBytes = 0;
  private dirty = false;
  private closed = false;
  private readonly syncTimer: NodeJS.Timeout;
  /** Unacknowledged batches and flows on disk. */
  batches = 0;
  flows = 0;
  /** Called when acknowledged chunks were removed from disk (room in the budget again). */
  onFreed: (() => void) | null = null;

  private constructor(
    private readonly spool: Spool,
    private readonly budget: SpillBudget,
    private readonly opts: SpillQueueOptions,
    private readonly log: Logger,
  ) {
    this.syncTimer = setInterval(() => this.syncNow(), opts.syncIntervalMs);
    this.syncTimer.unref();
  }

  /** Opens (creating) the directory; chunks an earlier run left there are indexed, not loaded. */
  static async open(budget: SpillBudget, opts: SpillQueueOptions, log: Logger): Promise<SpillQueue> {
    const recovered: Array<{ seqs: number[]; counts: Uint32Array; bytes: number }> = [];
    const spool = await Spool.open({ dir: opts.dir, maxBytes: Number.MAX_SAFE_INTEGER, segmentBytes: opts.segmentBytes, fsync: 'segment' }, log, (payload) => {
      const h = decodeHeader(payload);
      recovered.push({ seqs: h.seqs, counts: h.counts, bytes: payload.length });
    });
    const q = new SpillQueue(spool, budget, opts, log);
    for (const r of recovered) q.index(r.seqs[0], r.seqs[r.seqs.length - 1], r.counts, r.bytes);
    q.countBytes();
    return q;
  }

  get dir(): string {
    return this.opts.dir;
  }
  get empty(): boolean {
    return this.head === this.chunks.length;
  }
  /** Sequence number of the oldest batch on disk (0 when empty). */
  get firstSeq(): number {
    return this.empty ? 0 : this.chunks[this.head].ackedThrough + 1;
  }
  /** Sequence number of the newest batch on disk (0 when empty). */
  get lastSeq(): number {
    return this.empty ? 0 : this.chunks[this.chunks.length - 1].last;
  }

  /** The oldest chunk holding a batch numbered `seq` or later. */
  chunkFrom(seq: number): SpillChunk | undefined {
    let lo = this.head;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunks[mid].last < seq) lo = mid + 1;
      else hi = mid;
    }
    return this.chunks[lo];
  }

  /** Flows of batch `seq` if it is on disk. */
  countOf(seq: number): number | undefined {
    const c = this.chunkFrom(seq);
    return c && seq >= c.first ? c.counts[seq - c.first] : undefined;
  }

  /**
   * Writes chunks of consecutive batches, newer than everything on disk, in one write per
   * segment. Resolves with how many chunks are on disk: all of them, or on a failed write the
   * ones before it (with the error).
   */
  async write(chunks: ReadonlyArray<readonly SpillBatch[]>): Promise<{ written: number; error: Error | null }> {
    const records = chunks.map(chunkParts);
    const sizes = chunks.map(chunkPayloadBytes);
    const reserved = sizes.reduce((n, b) => n + b + RECORD_OVERHEAD, 0);
    this.budget.reserved += reserved;
    try {
      return await this.run(async () => {
        const before = this.spool.stats.appendedRecords;
        let error: Error | null = null;
        try {
          await this.spool.appendMany(records);
        } catch (err) {
          error = err as Error;
        }
        const written = this.spool.stats.appendedRecords - before;
        for (let i = 0; i < written; i++) {
          const batches = chunks[i];
          this.index(
            batches[0].seq,
            batches[batches.length - 1].seq,
            Uint32Array.from(batches, (b) => b.count),
            sizes[i],
          );
          this.budget.stats.spilledBatches += batches.length;
          this.budget.stats.spilledBytes += sizes[i];
        }
        if (written > 0) this.dirty = true;
        this.countBytes();
        return { written, error };
      });
    } finally {
      this.budget.reserved -= reserved;
    }
  }

  /** The batches of a chunk, read back from disk ([] if it was acknowledged meanwhile); `alloc`
   * gives the buffer the chunk is read into (see Spool.read). */
  read(chunk: SpillChunk, alloc?: (n: number) => Buffer): Promise<SpillBatch[]> {
    return this.run(async () => {
      const index = chunk.ord - this.shifted;
      if (index < 0) return [];
      const payload = await this.spool.read(index, alloc);
      return payload ? decodeChunk(payload) : [];
    });
  }

  /** The relay has everything up to `seq`: forget those batches; whole chunks leave the disk. */
  ackThrough(seq: number): void {
    while (this.head < this.chunks.length) {
      const c = this.chunks[this.head];
      for (let s = c.ackedThrough + 1, to = Math.min(c.last, seq); s <= to; s++) this.forget(c.counts[s - c.first]);
      c.ackedThrough = Math.max(c.ackedThrough, Math.min(c.last, seq));
      if (c.last > seq) return;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.chunks.length) {
        this.chunks.splice(0, this.head);
        this.head = 0;
      }
      this.run(async () => {
        await this.spool.shift();
        this.shifted++;
        this.countBytes();
        this.onFreed?.();
      }).catch((err: Error) => {
        this.budget.stats.errors++;
        this.log.warn({ err: err.message }, 'spill: removing an acknowledged chunk failed');
      });
    }
  }

  /** Resolves once every queued disk operation has finished. */
  async idle(): Promise<void> {
    for (let ops = this.ops; ; ops = this.ops) {
      await ops;
      if (ops === this.ops) return;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.syncTimer);
    await this.run(() => this.spool.close());
  }

  /** Closes the queue and deletes its directory; what it held no longer counts as queued. */
  async destroy(): Promise<void> {
    await this.close();
    this.budget.stats.queueBytes -= this.countedBytes;
    this.countedBytes = 0;
    this.budget.stats.queueBatches -= this.batches;
    this.budget.stats.queueFlows -= this.flows;
    this.batches = 0;
    this.flows = 0;
    await fs.rm(this.opts.dir, { recursive: true, force: true });
  }

  private index(first: number, last: number, counts: Uint32Array, bytes: number): SpillChunk {
    const chunk: SpillChunk = { ord: this.nextOrd++, first, last, counts, bytes, ackedThrough: first - 1 };
    this.chunks.push(chunk);
    let flows = 0;
    for (const c of counts) flows += c;
    this.batches += counts.length;
    this.flows += flows;
    this.budget.stats.queueBatches += counts.length;
    this.budget.stats.queueFlows += flows;
    return chunk;
  }

  private forget(flows: number): void {
    this.batches--;
    this.flows -= flows;
    this.budget.stats.queueBatches--;
    this.budget.stats.queueFlows -= flows;
  }

  private countBytes(): void {
    this.budget.stats.queueBytes += this.spool.bytes - this.countedBytes;
    this.countedBytes = this.spool.bytes;
  }

  /** Outside the operation chain: an fsync does not hold up the writes behind it. */
  private syncNow(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    this.spool.sync().catch((err: Error) => {
      this.budget.stats.errors++;
      this.log.warn({ err: err.message }, 'spill: fsync failed');
    });
  }

  /** Disk operations run one at a time, in call order. */
  private run<T>(op: () => Promise<T>): Promise<T> {
    const p = this.ops.then(op);
    this.ops = p.catch(() => undefined);
    return p;
  }
}
