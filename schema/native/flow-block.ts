// Flows into Native blocks of the flows table: storage/codec.ts writeFlowRow computes the
// column values (the same code that writes RowBinary rows), and a sink hands them to the block
// writer column after column, so the two formats always carry identical values.
import type { Flow } from '../../proto/types.js';
import { writeFlowRow, type IngestMark } from '../flow-row.js';
import type { RowSink } from '../rowbinary.js';
import { FLOW_NATIVE_COLUMNS, type NativeColumn } from './types.js';
import { NativeBlockWriter } from './writer.js';

/** Passes each value to the next column in order; `col` is rewound per row. */
class ColumnSequence implements RowSink {
  col = 0;
  constructor(private readonly w: NativeBlockWriter) {}
  u8(v: number): void { this.w.u8(this.col++, v); }
  u16(v: number): void { this.w.u16(this.col++, v); }
  u32(v: number): void { this.w.u32(this.col++, v); }
  i32(v: number): void { this.w.i32(this.col++, v); }
  u64(v: number): void { this.w.u64(this.col++, v); }
  timeNs(seconds: number, nanos: number): void { this.w.dateTime64ns(this.col++, seconds, nanos); }
  str(s: string): void { this.w.str(this.col++, s); }
  bytesField(b: Uint8Array): void { this.w.bytes(this.col++, b); }
  strArray(a: readonly string[]): void { this.w.strArray(this.col++, a); }
  u64Array(a: readonly number[]): void { this.w.u64Array(this.col++, a); }
  ipv6(ip: Uint8Array): void { this.w.ipv6(this.col++, ip); }
}

/** Native blocks of FLOW_NATIVE_COLUMNS built from Flow objects. */
export class FlowBlockWriter {
  readonly writer: NativeBlockWriter;
  private readonly seq: ColumnSequence;

  /** `columns` may declare other types for the flows columns (the benchmark declares the
   * LowCardinality ones as String); names and order must be the flows table's. */
  constructor(columns: readonly NativeColumn[] = FLOW_NATIVE_COLUMNS) {
    if (columns.length !== FLOW_NATIVE_COLUMNS.length || columns.some((c, i) => c.name !== FLOW_NATIVE_COLUMNS[i].name)) {
      throw new Error('FlowBlockWriter: the columns must be the flows table\'s, in order');
    }
    this.writer = new NativeBlockWriter(columns);
    this.seq = new ColumnSequence(this.writer);
  }

  get rows(): number { return this.writer.rows; }

  /** Appends one flow as a row. If this throws, the block is incomplete: call reset(). */
  add(flow: Flow, marks?: readonly IngestMark[], now = Date.now(), batchId = 0): void {
    this.seq.col = 0;
    writeFlowRow(this.seq, flow, marks, now, batchId);
    if (this.seq.col !== FLOW_NATIVE_COLUMNS.length) throw new Error(`a flow row wrote ${this.seq.col} of ${FLOW_NATIVE_COLUMNS.length} columns`);
    this.writer.endRow();
  }

  finish(): Buffer { return this.writer.finish(); }
  reset(): void { this.writer.reset(); }
}

/** One block of a batch, ingest marks on the last row (as storage/writer.ts encodeBatch does). */
export function encodeFlowBlock(w: FlowBlockWriter, flows: readonly Flow[], marks: readonly IngestMark[] = [], now = Date.now(), batchId = 0): Buffer {
  w.reset();
  const last = flows.length - 1;
  for (let i = 0; i < flows.length; i++) w.add(flows[i], i === last ? marks : undefined, now, batchId);
  return w.finish();
}
