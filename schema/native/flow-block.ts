// Flows into Native blocks of the flows table. Rows are staged (row-stage.ts) and move into the
// columns a few hundred at a time. Most flows (a decoder's nearly all) are staged by
// plain-row.ts straight from the Flow object; every other flow by schema/flow-row.ts
// writeFlowRow, the same code that writes RowBinary rows, through a sink that stages its values
// column after column. Both give the same bytes for the flows they share.
import type { Flow } from '../../proto/types.js';
import { writeFlowRow, rowToFlow, SELECT_LIST, type IngestMark } from '../flow-row.js';
import { Shape } from '../plain-flow.js';
import { readNativeBlock, type NativeColumnValues, type NativeValue } from './read.js';
import { Cursor } from './cursor.js';
import { FLOW_NATIVE_COLUMNS, type NativeColumn } from './types.js';
import { NativeBlockWriter, varuintSize, writeVaruint } from './writer.js';
import { RowStage, StagedRowSink } from './row-stage.js';
import { PlainRowWriter, fitsPlainRows, u64Column } from './plain-row.js';

/** writeFlowRow's values into a staged row. */
class FlowRowSink extends StagedRowSink {
  // The codec keeps a flow's exact 64-bit value in `rest` when it is not a safe integer; the
  // column (a filter copy) then holds the nearest value the writer accepts instead of failing the row.
  override u64(v: number): void {
    super.u64(u64Column(v));
  }
}

const NO_MARKS: readonly IngestMark[] = [];

/** Native blocks of FLOW_NATIVE_COLUMNS built from Flow objects. */
export class FlowBlockWriter {
  // Private: rows wait in the stage, so the writer alone does not hold the block.
  private readonly writer: NativeBlockWriter;
  private readonly stage: RowStage;
  private readonly sink: FlowRowSink;
  private readonly plain: PlainRowWriter | null;

  /** `columns` may declare other types for the flows columns (the benchmark declares the
   * LowCardinality ones as String); names and order must be the flows table's. */
  constructor(columns: readonly NativeColumn[] = FLOW_NATIVE_COLUMNS) {
    if (columns.length !== FLOW_NATIVE_COLUMNS.length || columns.some((c, i) => c.name !== FLOW_NATIVE_COLUMNS[i].name)) {
      throw new Error("FlowBlockWriter: the columns must be the flows table's, in order");
    }
    this.writer = new NativeBlockWriter(columns);
    this.stage = new RowStage(this.writer);
    const cols = this.writer.buffers();
    this.sink = new FlowRowSink(this.stage, cols);
    this.plain = fitsPlainRows(cols.map((c) => c.kind)) ? new PlainRowWriter(this.stage) : null;
  }

  get rows(): number {
    return this.writer.rows + this.stage.rows;
  }

  /** Appends one flow as a row. If this throws, the block is incomplete: call reset(). `now`
   * (default: the clock when needed) is the time of a flow without a usable one; `session` and
   * `seq` are the row's provenance (the collector's session and the flow's ring cursor). */
  add(flow: Flow, marks: readonly IngestMark[] = NO_MARKS, now?: number, batchId = 0, session = '', seq = 0): void {
    if (this.plain !== null && this.plain.write(flow, marks, now, batchId, session, seq) !== Shape.General) return;
    const sink = this.sink;
    sink.begin();
    writeFlowRow(sink, flow, marks, now, batchId, session, seq);
    if (sink.col !== FLOW_NATIVE_COLUMNS.length) throw new Error(`a flow row wrote ${sink.col} of ${FLOW_NATIVE_COLUMNS.length} columns`);
    this.stage.commit();
  }

  /** The block; `headroom` bytes are left free before it (NativeBlockWriter.finish). */
  finish(headroom = 0, alloc?: (n: number) => Buffer): Buffer {
    this.stage.flush();
    return this.writer.finish(headroom, alloc);
  }

  reset(): void {
    this.stage.reset();
    this.writer.reset();
  }
}

/** One block of a batch, ingest marks on the last row (as storage/writer.ts encodeBatch does). */
export function encodeFlowBlock(w: FlowBlockWriter, flows: readonly Flow[], marks: readonly IngestMark[] = [], now = Date.now(), batchId = 0): Buffer {
  w.reset();
  const last = flows.length - 1;
  for (let i = 0; i < flows.length; i++) w.add(flows[i], i === last ? marks : undefined, now, batchId);
  return w.finish();
}

// SELECT_LIST items that are expressions over a column: how to compute them from the column's
// Native value, so a block reads back exactly as a query of the same rows does.
const DERIVED: Record<string, { column: string; from: (v: NativeValue) => unknown }> = {
  r_time: { column: 'time', from: (v) => String(v as bigint) },
  r_src: { column: 'ip_src', from: (v) => (v as Buffer).toString('hex') },
  r_dst: { column: 'ip_dst', from: (v) => (v as Buffer).toString('hex') },
  r_xl: { column: 'ip_xlated', from: (v) => (v as Buffer).toString('hex') },
  r_latency: { column: 'l7_latency_ns', from: (v) => String(v) },
  r_rest: { column: 'rest', from: (v) => (v as Buffer).toString('base64') },
};

const text = (v: NativeValue): unknown => (Buffer.isBuffer(v) ? v.toString('utf8') : v);

/** The SELECT_LIST row readers of a block's columns, in SELECT_LIST order. */
function selectReaders(columns: readonly NativeColumnValues[]): Array<(row: number) => unknown> {
  const byName = new Map(columns.map((c) => [c.name, c.values]));
  return SELECT_LIST.split(', ').map((item) => {
    const alias = / AS (r_\w+)$/.exec(item)?.[1];
    const derived = alias === undefined ? undefined : DERIVED[alias];
    const values = byName.get(derived?.column ?? item);
    if (values === undefined) throw new Error(`block has no column for ${item}`);
    const from = derived?.from ?? text;
    return (row: number) => from(values[row]);
  });
}

// The String columns that hold bytes (protobuf), not text.
const BYTES_COLUMNS: ReadonlySet<string> = new Set(['rest']);

/** The flows of a Native block of the flows table, as rowToFlow rebuilds them from a query.
 * Allocates per value: for live followers and tests, not for the ingest path. */
export function blockToFlows(block: Buffer): Flow[] {
  const { rows, flow } = blockFlowReader(block);
  const out: Flow[] = new Array(rows);
  for (let r = 0; r < rows; r++) out[r] = flow(r);
  return out;
}

/** A block's rows as flows, each built when asked for: the block is read once, and a reader
 * that needs a few rows, or yields between them, pays per row (the collector's ring). */
export function blockFlowReader(block: Buffer): { rows: number; flow: (row: number) => Flow } {
  const { rows, columns } = readNativeBlock(block, { bytesColumns: BYTES_COLUMNS });
  const readers = selectReaders(columns);
  const values: unknown[] = new Array(readers.length);
  return {
    rows,
    flow(r: number): Flow {
      if (!(r >= 0 && r < rows)) throw new RangeError(`row ${r} of a block of ${rows}`);
      for (let i = 0; i < readers.length; i++) values[i] = readers[i](r);
      return rowToFlow(values);
    },
  };
}

/** Each row's provenance (flow_session, flow_seq), in row order. Allocates: for tests and tools. */
export function blockProvenance(block: Buffer): Array<{ session: string; seq: number }> {
  const { rows, columns } = readNativeBlock(block, { bytes: true });
  const sessions = columns.find((c) => c.name === 'flow_session')?.values;
  const seqs = columns.find((c) => c.name === 'flow_seq')?.values;
  if (!sessions || !seqs) throw new Error('block has no provenance columns');
  const out = new Array<{ session: string; seq: number }>(rows);
  for (let r = 0; r < rows; r++) out[r] = { session: text(sessions[r]) as string, seq: Number(seqs[r]) };
  return out;
}

/** Rows of a block, from its header (the block must have been validated). */
export function blockRows(block: Buffer): number {
  const cur = new Cursor(block);
  cur.varuint('column count');
  return cur.varuint('row count');
}

/** The first row's flow time in ms since the epoch (a collector's batch is in capture order, so
 * it is the batch's oldest); the block must be a validated flows block, whose first column is
 * `time` (DateTime64(9)). */
export function blockFirstTimeMs(block: Buffer): number {
  const cur = new Cursor(block);
  cur.varuint('column count');
  if (cur.varuint('row count') === 0) return 0;
  cur.bytes('time name');
  cur.bytes('time type');
  cur.need(8, 'time');
  return Number(block.readBigInt64LE(cur.pos) / 1_000_000n);
}

const PROVENANCE = new Set(['flow_session', 'flow_seq']);

/** The flows columns as collectors wrote them before the provenance columns (the last two). */
export const LEGACY_FLOW_NATIVE_COLUMNS: readonly NativeColumn[] = Object.freeze(FLOW_NATIVE_COLUMNS.filter((c) => !PROVENANCE.has(c.name)));
const PROVENANCE_COLUMNS = FLOW_NATIVE_COLUMNS.filter((c) => PROVENANCE.has(c.name));
if (FLOW_NATIVE_COLUMNS.slice(-PROVENANCE_COLUMNS.length).some((c) => !PROVENANCE.has(c.name))) {
  throw new Error('the provenance columns must be the last flows columns');
}

/**
 * A validated block of LEGACY_FLOW_NATIVE_COLUMNS (a collector from before the provenance
 * columns) as a block of the flows columns: empty provenance ('' / 0, history only) appended
 * at the byte level, the other columns' bytes untouched.
 */
export function withEmptyProvenance(block: Buffer, rows: number): Buffer {
  const w = new NativeBlockWriter(PROVENANCE_COLUMNS);
  const session = w.index('flow_session'),
    seq = w.index('flow_seq');
  for (let r = 0; r < rows; r++) {
    w.str(session, '');
    w.u64(seq, 0);
    w.endRow();
  }
  const tail = w.finish();
  const tc = new Cursor(tail);
  tc.varuint('column count');
  tc.varuint('row count');
  const bc = new Cursor(block);
  const cols = bc.varuint('column count');
  const head = Buffer.allocUnsafe(varuintSize(cols + PROVENANCE_COLUMNS.length));
  writeVaruint(head, 0, cols + PROVENANCE_COLUMNS.length);
  return Buffer.concat([head, block.subarray(bc.pos), tail.subarray(tc.pos)]);
}
