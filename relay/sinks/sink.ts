// Where the ingest batcher hands merged batches: a FlowSink makes a batch durable (stored,
// spooled to disk, or acknowledged by Kafka) and only then resolves, so the relay can ack the
// collectors whose batches it contains.
import type { Flow } from '../../proto/types.js';
import { types, encode, decode } from '../../proto/index.js';
import type { IngestMark } from '../../storage/index.js';
import { FlowBlockWriter, blockRows } from '../../schema/native/flow-block.js';

export type { IngestMark };

/** One collector batch inside a relay batch: its rows as the Native block the collector built
 * (checked by the ingest server), or null when it had no rows (only lost events). */
export interface BatchPart extends IngestMark {
  block: Buffer | null;
  rows: number;
}

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

/** The blocks of a batch in part order. */
export function batchBlocks(batch: SinkBatch): Buffer[] {
  const out: Buffer[] = [];
  for (const p of batch.parts) if (p.block !== null) out.push(p.block);
  return out;
}

export function batchRows(batch: SinkBatch): number {
  let n = 0;
  for (const p of batch.parts) n += p.rows;
  return n;
}

export function batchMarks(batch: SinkBatch): IngestMark[] {
  return batch.parts.map(({ session, node, seq }) => ({ session, node, seq }));
}

interface DurableBatchMessage {
  batch_id?: number;
  flows?: Flow[];
  marks?: Array<{ session?: string; node?: string; seq?: number }>;
  blocks?: Uint8Array[];
}

/** A batch as the DurableBatch protobuf (spool record, Kafka message). */
export function encodeDurableBatch(batchId: number, blocks: readonly Buffer[], marks: readonly IngestMark[]): Buffer {
  return encode(types.DurableBatch, { batch_id: batchId, blocks, marks });
}

export interface DecodedBatch {
  batchId: number;
  blocks: Buffer[];
  rows: number;
  marks: IngestMark[];
}

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Flows as protobuf messages (a record written before blocks, or an old collector's batch) as
 * one block, the way a collector would have built it. */
export function flowsToBlock(flows: readonly Flow[]): Buffer {
  const w = new FlowBlockWriter();
  for (const f of flows) w.add(f);
  return w.finish();
}

/** Reads a DurableBatch; its blocks are trusted (this relay or one of its peers checked them
 * before writing the record). */
export function decodeDurableBatch(bytes: Uint8Array): DecodedBatch {
  const m = decode<DurableBatchMessage>(types.DurableBatch, bytes);
  const blocks = (m.blocks ?? []).map(asBuffer);
  if (m.flows && m.flows.length > 0) blocks.push(flowsToBlock(m.flows));
  let rows = 0;
  for (const b of blocks) rows += blockRows(b);
  return {
    batchId: m.batch_id ?? 0,
    blocks,
    rows,
    marks: (m.marks ?? []).map((k) => ({ session: k.session ?? '', node: k.node ?? '', seq: k.seq ?? 0 })),
  };
}
