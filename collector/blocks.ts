// Each flow is written once, as a row of a Native block of the flows table; the finished blocks
// are what the collector keeps (its ring) and what it ships. Holding flows as bytes rather than
// objects matters: a ring of 4,095 live Flow objects survives every young-generation GC and is
// copied and promoted, which cost about 40% of the collector's CPU and ~80 MB of heap at 100k
// records/s (docs/benchmarks.md).
import type { Flow } from '../proto/types.js';
import { FlowBlockWriter } from '../schema/native/flow-block.js';
import { BATCH_HEADROOM } from './ship/batch-message.js';
import type { BlockLease, BlockPool } from './block-pool.js';

/** A finished block: the Native bytes start at `framed[BATCH_HEADROOM]`, the room before them is
 * for the batch framing (ship/batch-message.ts). Rows carry cursors first..first+rows-1. */
export interface FinishedBlock {
  framed: Buffer;
  rows: number;
  /** Cursor of the first row; rows added with cursor 0 (no provenance) have first = 0. */
  first: number;
  /** With a pool: a listener that keeps `framed` past its call holds the lease and releases it
   * when done (the buffer is then reused). Null: the buffer is the block's own. */
  lease: BlockLease | null;
}

export interface FlowBlocksOptions {
  /** A block is finished once it holds this many rows. */
  maxRows: number;
  /** ...or this long after its first row (0: only by rows or cut()). */
  maxDelayMs: number;
}

export const DEFAULT_FLOW_BLOCKS: FlowBlocksOptions = { maxRows: 2000, maxDelayMs: 100 };

export type BlockListener = (block: FinishedBlock) => void;

export class FlowBlocks {
  private readonly writer = new FlowBlockWriter();
  private readonly listeners: BlockListener[] = [];
  private timer: NodeJS.Timeout | null = null;
  private first = 0;
  private readonly opts: FlowBlocksOptions;
  /** Rows lost because one of them could not be written (the block being built is dropped). */
  onWriteError: ((lost: number, err: Error) => void) | null = null;

  /** `session` goes into every row added with a cursor (flow_session; the cursor is flow_seq).
   * `pool`: where finished blocks' buffers come from (see FinishedBlock.lease); absent, new ones. */
  constructor(
    readonly session: string,
    opts: Partial<FlowBlocksOptions> = {},
    private readonly pool: BlockPool | null = null,
  ) {
    this.opts = { ...DEFAULT_FLOW_BLOCKS, ...opts };
    if (!Number.isInteger(this.opts.maxRows) || this.opts.maxRows < 1) throw new Error(`invalid block rows ${this.opts.maxRows}`);
  }

  /** Rows written but not yet in a finished block. */
  get pending(): number {
    return this.writer.rows;
  }

  /** Listeners get every finished block, in order, synchronously. */
  onBlock(listener: BlockListener): void {
    this.listeners.push(listener);
  }

  /** Writes `flow` as a row; `cursor` (> 0) is its ring cursor, 0 for none. */
  add(flow: Flow, cursor = 0): void {
    const w = this.writer;
    if (w.rows === 0) this.first = cursor;
    try {
      w.add(flow, undefined, undefined, 0, cursor > 0 ? this.session : '', cursor);
    } catch (err) {
      // A row that fails half-way leaves the columns uneven: the whole block is lost, counted.
      const lost = w.rows + 1;
      w.reset();
      this.clearTimer();
      this.onWriteError?.(lost, err as Error);
      return;
    }
    if (w.rows >= this.opts.maxRows) this.cut();
    else if (this.timer === null && this.opts.maxDelayMs > 0) this.timer = setTimeout(() => this.cut(), this.opts.maxDelayMs);
  }

  /** Finishes the block being built now (nothing when it is empty). */
  cut(): void {
    this.clearTimer();
    const rows = this.writer.rows;
    if (rows === 0) return;
    const pool = this.pool;
    const leased: { lease: BlockLease | null } = { lease: null };
    let framed: Buffer;
    try {
      framed = this.writer.finish(BATCH_HEADROOM, pool === null ? undefined : (n) => (leased.lease = pool.lease(n)).bytes(n));
    } catch (err) {
      this.writer.reset();
      this.onWriteError?.(rows, err as Error);
      return;
    }
    const block: FinishedBlock = { framed, rows, first: this.first, lease: leased.lease };
    try {
      for (let i = 0; i < this.listeners.length; i++) this.listeners[i](block);
    } finally {
      // The lease was held for the listeners' calls; those that keep the block hold it themselves.
      leased.lease?.release();
    }
  }

  /** Stops the timer (pending rows stay until the next cut()). */
  close(): void {
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
