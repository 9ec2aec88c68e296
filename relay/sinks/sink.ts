// Where the ingest batcher hands merged batches: a FlowSink makes a batch durable (stored,
// spooled to disk, or acknowledged by Kafka) and only then resolves, so the relay can ack the
// collectors whose batches it contains.
import type { Flow } from '../../proto/types.js';
import { types, encode, decode } from '../../proto/index.js';
import type { IngestMark } from '../../storage/index.js';

export type { IngestMark };

/** One collector batch inside a relay batch. */
export interface BatchPart extends IngestMark { flows: Flow[] }

/** A relay batch: the collector batches merged into one storage write. */
export interface SinkBatch {
  /** Grows with every batch, across restarts too; the idempotency key of the rows. */
  batchId: number;
  parts: readonly BatchPart[];
}

export interface FlowSink {
  /** Resolves once the batch is durable; rejects if it is not (the batcher retries). */
  write(batch: SinkBatch): Promise<void>;
  /**
   * Highest sequence number of a collector session this sink holds durably but storage may not
   * show yet (spooled, produced to Kafka); 0 if none. The relay's resume point is the larger of
   * this and what storage reports.
   */
  heldSeq(session: string): number;
  close(): Promise<void>;
}

/** All flows of a batch in part order (no copy for the common single-part batch). */
export function batchFlows(batch: SinkBatch): Flow[] {
  const { parts } = batch;
  return parts.length === 1 ? parts[0].flows : parts.flatMap((p) => p.flows);
}

export function batchMarks(batch: SinkBatch): IngestMark[] {
  return batch.parts.map(({ session, node, seq }) => ({ session, node, seq }));
}

interface DurableBatchMessage { batch_id?: number; flows?: Flow[]; marks?: Array<{ session?: string; node?: string; seq?: number }> }

/** A batch as the DurableBatch protobuf (spool record, Kafka message). */
export function encodeDurableBatch(batchId: number, flows: readonly Flow[], marks: readonly IngestMark[]): Buffer {
  return encode(types.DurableBatch, { batch_id: batchId, flows, marks });
}

export interface DecodedBatch { batchId: number; flows: Flow[]; marks: IngestMark[] }

export function decodeDurableBatch(bytes: Uint8Array): DecodedBatch {
  const m = decode<DurableBatchMessage>(types.DurableBatch, bytes);
  return {
    batchId: m.batch_id ?? 0,
    flows: m.flows ?? [],
    marks: (m.marks ?? []).map((k) => ({ session: k.session ?? '', node: k.node ?? '', seq: k.seq ?? 0 })),
  };
}
