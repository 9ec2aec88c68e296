// ClickHouse with an on-disk spool in front of outages. A batch is durable once it is stored or
// spooled (fsynced). While the spool holds anything, new batches queue behind it, so batches
// reach storage in batch-id order; a background loop replays them as soon as storage answers.
// A replay never stores a row twice: it first asks storage how many rows carry the batch id
// (an insert that timed out may have landed) and skips a batch that is fully there; of a batch
// that landed in part only the rows whose uuid is not stored under its batch id are inserted. When the spool
// is full, write() waits for room: ingest pauses and collectors buffer (backpressure, counted)
// instead of anything being dropped.
import type { Logger } from '../../common/logger.js';
import type { ClickHouseSink } from './clickhouse-sink.js';
import { Spool, type SpoolOptions } from '../../common/spool.js';
import { FencedError } from '../../storage/index.js';
import { batchBlocks, batchMarks, batchRows, decodeDurableBatch, encodeDurableBatch, type FlowSink, type IngestMark, type SinkBatch } from './sink.js';

export interface SpoolingSinkOptions {
  /** An insert slower than this counts as failed and its batch is spooled. */
  insertTimeoutMs: number;
  replayRetryMinMs: number;
  replayRetryMaxMs: number;
}

export const DEFAULT_SPOOLING_OPTIONS: SpoolingSinkOptions = { insertTimeoutMs: 10_000, replayRetryMinMs: 100, replayRetryMaxMs: 5_000 };

export interface SpoolingSinkStats {
  directBatches: number;
  insertFailures: number;
  spooledBatches: number;
  spooledRows: number;
  replayedBatches: number;
  replayedRows: number;
  /** Rows a replay found already stored (inserts that landed after timing out) and skipped. */
  replaySkippedRows: number;
  replayFailures: number;
  /** Batches that had to wait for spool room (ingest was paused meanwhile). */
  spoolFullWaits: number;
}

class TimeoutError extends Error {}

function noteMarks(held: Map<string, number>, marks: readonly IngestMark[]): void {
  for (const m of marks) if (m.seq > (held.get(m.session) ?? 0)) held.set(m.session, m.seq);
}

export class SpoolingSink implements FlowSink {
  readonly stats: SpoolingSinkStats = {
    directBatches: 0,
    insertFailures: 0,
    spooledBatches: 0,
    spooledRows: 0,
    replayedBatches: 0,
    replayedRows: 0,
    replaySkippedRows: 0,
    replayFailures: 0,
    spoolFullWaits: 0,
  };
  /** A direct insert that timed out but may still land: replay waits for it to settle. */
  private inflight: Promise<unknown> | null = null;
  private replay: Promise<void> | null = null;
  private roomWaiters: Array<() => void> = [];
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly store: ClickHouseSink,
    private readonly spool: Spool,
    private readonly log: Logger,
    private readonly opts: SpoolingSinkOptions = DEFAULT_SPOOLING_OPTIONS,
    /** Highest spooled sequence number per collector session (see FlowSink.heldSeq). */
    private readonly held = new Map<string, number>(),
  ) {}

  /** Opens the spool and starts replaying what an earlier run left in it. */
  static async open(store: ClickHouseSink, spoolOpts: SpoolOptions, log: Logger, opts: SpoolingSinkOptions = DEFAULT_SPOOLING_OPTIONS): Promise<SpoolingSink> {
    const held = new Map<string, number>();
    // Resume points must cover spooled batches, or reconnecting collectors would see a gap.
    const spool = await Spool.open(spoolOpts, log, (payload) => noteMarks(held, decodeDurableBatch(payload).marks));
    const sink = new SpoolingSink(store, spool, log, opts, held);
    if (spool.records > 0) sink.kickReplay();
    return sink;
  }

  get spooledRecords(): number {
    return this.spool.records;
  }
  get spoolBytes(): number {
    return this.spool.bytes;
  }

  heldSeq(session: string): number {
    return this.held.get(session) ?? 0;
  }

  async write(batch: SinkBatch): Promise<void> {
    if (this.closed) throw new Error('sink is closed');
    if (this.spool.records === 0 && this.replay === null) {
      try {
        await this.withTimeout(this.store.write(batch), true);
        this.stats.directBatches++;
        return;
      } catch (err) {
        // Not an outage: storage answered that those sessions belong to another relay.
        if (err instanceof FencedError) throw err;
        this.stats.insertFailures++;
        this.log.warn({ err: (err as Error).message, batchId: batch.batchId }, 'storage insert failed; spooling the batch');
      }
    }
    await this.spoolBatch(batch);
  }

  /** Resolves when the spool is empty (tests, shutdown reporting). */
  async drained(): Promise<void> {
    while (this.replay) await this.replay;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    for (const w of this.roomWaiters.splice(0)) w();
    await this.replay;
    await this.spool.close();
  }

  private async spoolBatch(batch: SinkBatch): Promise<void> {
    const marks = batchMarks(batch);
    const payload = encodeDurableBatch(batch.batchId, batchBlocks(batch), marks);
    if (!this.spool.hasRoomFor(payload.length)) {
      this.stats.spoolFullWaits++;
      this.log.warn({ records: this.spool.records, bytes: this.spool.bytes }, 'spool full; ingest paused until storage catches up');
      while (!this.spool.hasRoomFor(payload.length)) {
        if (this.closed) throw new Error('sink closed while waiting for spool room');
        await new Promise<void>((r) => this.roomWaiters.push(r));
      }
    }
    await this.spool.append(payload);
    noteMarks(this.held, marks);
    this.stats.spooledBatches++;
    this.stats.spooledRows += batchRows(batch);
    this.kickReplay();
  }

  private kickReplay(): void {
    this.replay ??= this.replayLoop().finally(() => {
      this.replay = null;
    });
  }

  private async replayLoop(): Promise<void> {
    let delay = this.opts.replayRetryMinMs;
    while (!this.closed && this.spool.records > 0) {
      try {
        if (this.inflight) {
          await this.inflight;
          this.inflight = null;
        }
        const rec = decodeDurableBatch((await this.spool.peek())!);
        const stored = rec.rows > 0 ? await this.withTimeout(this.store.storedRows(rec.batchId), false) : 0;
        if (stored < rec.rows || rec.rows === 0) {
          // Whatever of the batch is not stored yet: an insert that landed in part (one partition
          // of several written) is completed row by row, by uuid, never doubled.
          await this.withTimeout(this.store.insertDecoded(rec.blocks, rec.marks, rec.batchId, stored), true);
        }
        this.stats.replaySkippedRows += stored >= rec.rows ? rec.rows : 0;
        this.stats.replayedRows += stored >= rec.rows ? 0 : rec.rows;
        this.stats.replayedBatches++;
        await this.spool.shift();
        for (const w of this.roomWaiters.splice(0)) w();
        delay = this.opts.replayRetryMinMs;
      } catch (err) {
        this.stats.replayFailures++;
        this.log.debug({ err: (err as Error).message, retryInMs: delay, spooled: this.spool.records }, 'spool replay failed; retrying');
        await new Promise<void>((r) => {
          const t = setTimeout(r, delay);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
        delay = Math.min(delay * 2, this.opts.replayRetryMaxMs);
      }
    }
    if (this.spool.records === 0) {
      this.held.clear(); // everything held is in storage now, which answers for it
      this.log.info({ replayedBatches: this.stats.replayedBatches }, 'spool drained');
    }
  }

  private withTimeout<T>(p: Promise<T>, isWrite: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => {
        if (isWrite) this.inflight = p.catch(() => undefined);
        reject(new TimeoutError(`storage did not answer within ${this.opts.insertTimeoutMs} ms`));
      }, this.opts.insertTimeoutMs);
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e) => {
          clearTimeout(t);
          reject(e);
        },
      );
    });
  }
}
