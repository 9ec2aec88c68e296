// The direct path: a relay batch becomes one FlowStore insert of the collectors' blocks (rows and
// ingest marks together).
import { batchBlocks, batchMarks, type FlowSink, type IngestMark, type SinkBatch } from './sink.js';

/** What the ClickHouse sink needs from storage (FlowStore has it). */
export interface BatchStore {
  /** Resolves once rows and marks are stored; `batchId` goes into every row's batch_id. */
  insertBlocks(
    blocks: readonly Buffer[],
    progress: readonly IngestMark[],
    batchId: number,
    opts?: { dedupKey?: string; skipStored?: boolean; fence?: boolean },
  ): Promise<void>;
  /** Rows stored with this batch id (a replay's idempotency check). */
  storedRows(batchId: number): Promise<number>;
}

export class ClickHouseSink implements FlowSink {
  /** `fence`: on a shared store, refuse the batch (FencedError) if another relay claimed one of
   * its sessions. Spool replays are not fenced: they hold batches only this relay acknowledged. */
  constructor(
    private readonly store: BatchStore,
    private readonly fence = false,
  ) {}

  write(batch: SinkBatch): Promise<void> {
    return this.store.insertBlocks(batchBlocks(batch), batchMarks(batch), batch.batchId, this.fence ? { fence: true } : undefined);
  }

  /** Inserts a batch read back from the spool; `storedRows` of its rows are in storage already
   * (an insert that landed in part), and only the others are inserted, under their own key. */
  insertDecoded(blocks: readonly Buffer[], marks: readonly IngestMark[], batchId: number, storedRows = 0): Promise<void> {
    if (storedRows === 0) return this.store.insertBlocks(blocks, marks, batchId);
    return this.store.insertBlocks(blocks, marks, batchId, { dedupKey: `${batchId}-after-${storedRows}`, skipStored: true });
  }

  storedRows(batchId: number): Promise<number> {
    return this.store.storedRows(batchId);
  }

  heldSeq(): number {
    return 0;
  }

  async close(): Promise<void> {}
}
