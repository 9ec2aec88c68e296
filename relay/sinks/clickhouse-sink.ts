// The direct path: a relay batch becomes one FlowStore insert (rows + ingest marks together).
import type { Flow } from '../../proto/types.js';
import { batchFlows, batchMarks, type FlowSink, type IngestMark, type SinkBatch } from './sink.js';

/** What the ClickHouse sink needs from storage (FlowStore has it). */
export interface BatchStore {
  /** Resolves once rows and marks are stored; `batchId` goes into every row's batch_id. */
  insert(flows: readonly Flow[], progress: readonly IngestMark[], batchId: number): Promise<void>;
  /** Rows stored with this batch id (a replay's idempotency check). */
  storedRows(batchId: number): Promise<number>;
}

export class ClickHouseSink implements FlowSink {
  constructor(private readonly store: BatchStore) {}

  write(batch: SinkBatch): Promise<void> {
    return this.store.insert(batchFlows(batch), batchMarks(batch), batch.batchId);
  }

  /** Inserts a batch read back from the spool. */
  insertDecoded(flows: readonly Flow[], marks: readonly IngestMark[], batchId: number): Promise<void> {
    return this.store.insert(flows, marks, batchId);
  }

  storedRows(batchId: number): Promise<number> {
    return this.store.storedRows(batchId);
  }

  heldSeq(): number { return 0; }

  async close(): Promise<void> {}
}
