// Rows on their way into a NativeBlockWriter's column buffers. A row writer puts a row's values
// side by side in a small row-major stage (a few typed arrays) and commits the row once every
// column has its value; when the stage is full its rows move into the column buffers a column at
// a time. So a row can be given up half-way at no cost (plain-row.ts checks a flow's fields as it
// stages them and leaves a flow it cannot take to the general path), staging a value is one
// store, and moving a column is a tight loop of one kind with that column's buffers in cache,
// where runs of repeated LowCardinality values skip the dictionary lookup.
//
// Values are checked when they are staged, with the checks NativeBlockWriter makes per value, so
// a bad row fails where it is written and never when the stage moves.
import type { RowSink } from '../rowbinary.js';
import { Kind } from './types.js';
import { checkDateTime64ns, checkU64, checkU64s, type ColumnBuffer, type NativeBlockWriter } from './writer.js';

/** Rows staged between moves: small enough to stay in cache, large enough for tight loops. */
const STAGE_ROWS = 256;

/** Which stage array holds a column's values, and how many slots of it per row. */
function slotsOf(kind: Kind): { nums: number; refs: number; ips: number } {
  switch (kind) {
    case Kind.DateTime64:
      return { nums: 2, refs: 0, ips: 0 }; // seconds, nanoseconds
    case Kind.IPv6:
      return { nums: 0, refs: 0, ips: 1 };
    case Kind.String:
    case Kind.LowCardinality:
      return { nums: 0, refs: 1, ips: 0 };
    case Kind.ArrayString:
    case Kind.ArrayLowCardinality:
    case Kind.ArrayU64:
      return { nums: 2, refs: 0, ips: 0 }; // count, first element
    default:
      return { nums: 1, refs: 0, ips: 0 };
  }
}

/** Per column its slot in the stage array of its kind (`nums`, `refs` or `ips`), and the slots per row of each. */
export function stageLayout(kinds: readonly Kind[]): { slot: Int32Array; nums: number; refs: number; ips: number } {
  const slot = new Int32Array(kinds.length);
  let nums = 0,
    refs = 0,
    ips = 0;
  kinds.forEach((kind, j) => {
    const s = slotsOf(kind);
    slot[j] = s.nums > 0 ? nums : s.refs > 0 ? refs : ips;
    nums += s.nums;
    refs += s.refs;
    ips += s.ips;
  });
  return { slot, nums, refs, ips };
}

/** The row-major stage of a NativeBlockWriter's columns. */
export class RowStage {
  /** Per column: the index of its (first) slot in `nums`, `refs` or `ips`, by its kind. */
  readonly slot: Int32Array;
  /** Slots per row in `nums` and `refs`. */
  readonly numWidth: number;
  readonly refWidth: number;
  /** Fixed-width values; DateTime64 as seconds and nanoseconds; arrays as element count and
   * index of the first element in the stage's element list. */
  readonly nums: Float64Array;
  /** Strings of String and LowCardinality(String) columns, or raw bytes (Uint8Array) of a String column. */
  readonly refs: unknown[];
  /** IPv6 addresses, 16 bytes each, a column's one after the other (`capacity` per column): a
   * column's addresses then move with one copy. */
  readonly ips: Uint8Array;
  /** Rows staged since the last move. */
  rows = 0;
  /** Array elements of the staged rows; kept (not shrunk) from move to move. */
  private readonly elems: unknown[] = [];
  private nElems = 0;
  private readonly cols: readonly ColumnBuffer[];

  constructor(
    private readonly writer: NativeBlockWriter,
    readonly capacity = STAGE_ROWS,
  ) {
    this.cols = writer.buffers();
    const layout = stageLayout(this.cols.map((c) => c.kind));
    this.slot = layout.slot;
    this.numWidth = layout.nums;
    this.refWidth = layout.refs;
    this.nums = new Float64Array(capacity * layout.nums);
    this.refs = Array.from({ length: capacity * layout.refs }, () => '');
    this.ips = new Uint8Array(capacity * layout.ips * 16);
  }

  /** The index of the next row; a full stage moves its rows into the columns first. The row
   * counts once {@link commit} is called, after every column has its value. */
  next(): number {
    if (this.rows === this.capacity) this.flush();
    return this.rows;
  }

  commit(): void {
    this.rows++;
  }

  /** Index the next staged array element gets (for {@link endList}). */
  get elemCount(): number {
    return this.nElems;
  }

  /** Drops the elements staged from index `first` on (those of a row given up half-way). */
  dropElements(first: number): void {
    this.nElems = first;
  }

  /** Stages one element of a row's array. */
  element(v: unknown): void {
    if (this.nElems === this.elems.length) this.elems.push(v);
    else this.elems[this.nElems] = v;
    this.nElems++;
  }

  // Array and IPv6 values by their column's slot ({@link slot}).

  /** Sets the array at `slot` of `row` to the elements staged from index `first` on. */
  endList(row: number, slot: number, first: number): void {
    const p = row * this.numWidth + slot;
    this.nums[p] = this.nElems - first;
    this.nums[p + 1] = first;
  }

  /** Sets the array at `slot` of `row` to the elements of `a`. */
  list(row: number, slot: number, a: readonly unknown[]): void {
    const first = this.nElems;
    for (let i = 0; i < a.length; i++) this.element(a[i]);
    this.endList(row, slot, first);
  }

  /** Copies a 16-byte address to `slot` of `row`. */
  address(row: number, slot: number, ip: Uint8Array): void {
    const ips = this.ips,
      at = (slot * this.capacity + row) * 16;
    for (let i = 0; i < 16; i++) ips[at + i] = ip[i];
  }

  /** Moves the staged rows into the column buffers (and counts them as the writer's rows). */
  flush(): void {
    const n = this.rows;
    if (n === 0) return;
    const cols = this.cols,
      slot = this.slot;
    for (let j = 0; j < cols.length; j++) {
      const c = cols[j],
        s = slot[j];
      switch (c.kind) {
        case Kind.DateTime64:
          c.times(this.nums, s, this.numWidth, n);
          break;
        case Kind.IPv6:
          c.addresses(this.ips.subarray(s * this.capacity * 16, (s * this.capacity + n) * 16));
          break;
        case Kind.String:
        case Kind.LowCardinality:
          c.strings(this.refs, s, this.refWidth, n);
          break;
        case Kind.ArrayString:
        case Kind.ArrayLowCardinality:
        case Kind.ArrayU64:
          c.lists(this.nums, s, this.numWidth, this.elems, n);
          break;
        default:
          c.numbers(this.nums, s, this.numWidth, n);
      }
    }
    this.writer.endRows(n);
    this.reset();
  }

  /** Drops the staged rows. */
  reset(): void {
    this.rows = 0;
    // Elements are dropped by count; clearing the references lets their strings go.
    this.elems.fill(undefined, 0, this.nElems);
    this.nElems = 0;
  }
}

const APPENDERS: Record<string, string> = {
  u8: 'UInt8',
  u16: 'UInt16',
  u32: 'UInt32',
  i32: 'Int32',
  u64: 'UInt64',
  timeNs: 'DateTime64(9)',
  ipv6: 'IPv6',
  str: 'String or LowCardinality(String)',
  bytesField: 'String',
  strArray: 'Array(String) or Array(LowCardinality(String))',
  u64Array: 'Array(UInt64)',
};

/** Writes one staged row column after column, as a row encoder (schema/flow-row.ts) produces
 * it; each value is checked against its column as NativeBlockWriter would check it. */
export class StagedRowSink implements RowSink {
  private row = 0;
  /** The next column. */
  col = 0;

  constructor(
    private readonly stage: RowStage,
    private readonly cols: readonly ColumnBuffer[],
  ) {}

  /** Starts a row at the first column. */
  begin(): void {
    this.row = this.stage.next();
    this.col = 0;
  }

  u8(v: number): void {
    this.num(this.take(Kind.U8, 'u8'), v);
  }
  u16(v: number): void {
    this.num(this.take(Kind.U16, 'u16'), v);
  }
  u32(v: number): void {
    this.num(this.take(Kind.U32, 'u32'), v);
  }
  i32(v: number): void {
    this.num(this.take(Kind.I32, 'i32'), v);
  }

  u64(v: number): void {
    checkU64(v);
    this.num(this.take(Kind.U64, 'u64'), v);
  }

  timeNs(seconds: number, nanos: number): void {
    checkDateTime64ns(seconds, nanos);
    const st = this.stage,
      p = this.row * st.numWidth + st.slot[this.take(Kind.DateTime64, 'timeNs')];
    st.nums[p] = seconds;
    st.nums[p + 1] = nanos;
  }

  ipv6(ip: Uint8Array): void {
    if (ip.length !== 16) throw new RangeError(`ipv6(): ${ip.length} bytes, want 16`);
    this.stage.address(this.row, this.stage.slot[this.take(Kind.IPv6, 'ipv6')], ip);
  }

  str(s: string): void {
    const j = this.take(Kind.String, 'str', Kind.LowCardinality);
    if (typeof s !== 'string') throw new TypeError(`str(): column ${this.cols[j].name} takes a string, got ${typeof s}`);
    this.ref(j, s);
  }

  /** The bytes are kept until the stage moves: they must not change meanwhile. */
  bytesField(b: Uint8Array): void {
    if (!(b instanceof Uint8Array)) throw new TypeError('bytesField(): takes a Uint8Array');
    this.ref(this.take(Kind.String, 'bytesField'), b);
  }

  strArray(a: readonly string[]): void {
    const j = this.take(Kind.ArrayString, 'strArray', Kind.ArrayLowCardinality);
    for (let i = 0; i < a.length; i++) {
      if (typeof a[i] !== 'string') throw new TypeError(`strArray(): column ${this.cols[j].name} takes strings, got ${typeof a[i]}`);
    }
    this.stage.list(this.row, this.stage.slot[j], a);
  }

  u64Array(a: readonly number[]): void {
    checkU64s(a);
    this.stage.list(this.row, this.stage.slot[this.take(Kind.ArrayU64, 'u64Array')], a);
  }

  /** The next column, which must be of kind `kind` (or `alt`). */
  private take(kind: Kind, appender: string, alt: Kind = kind): number {
    const j = this.col++,
      c = this.cols[j];
    if (c === undefined || (c.kind !== kind && c.kind !== alt)) {
      throw new TypeError(c === undefined ? `no column #${j}` : `${appender}() writes ${APPENDERS[appender]}, column ${c.name} is ${c.type}`);
    }
    return j;
  }

  private num(j: number, v: number): void {
    const st = this.stage;
    st.nums[this.row * st.numWidth + st.slot[j]] = v;
  }

  private ref(j: number, v: unknown): void {
    const st = this.stage;
    st.refs[this.row * st.refWidth + st.slot[j]] = v;
  }
}
