// Collects the batches of every collector into storage writes sized the way ClickHouse likes
// (many rows, few inserts), hands them to a FlowSink, retries failed writes with backoff, and
// reports each collector batch as durable only after the write that contains it succeeded.
import type { Logger } from '../../common/logger.js';
import type { BatchPart, FlowSink } from '../sinks/sink.js';
import { FencedError } from '../../storage/index.js';

export type { IngestMark, BatchPart } from '../sinks/sink.js';

export interface BatcherOptions {
  /** Rows per insert at most; under load each insert is also cut to about one flush interval of the store's work (see insertCap). */
  maxRows: number;
  flushIntervalMs: number;
  /** Rows accepted but not yet durable; above it `hasRoom` is false and ingest pauses. */
  maxPendingRows: number;
  retryMinMs: number;
  retryMaxMs: number;
}

// 500 ms: every insert is a part of the flows table and of each view's table, and the parts are
// merged later; at 30k flows/s on 2 cores the merges took 52% of a core with 250 ms inserts, 36%
// with 500 ms and 12% with 1000 ms (docs/benchmarks.md, "Flush interval"). Live flows come from
// the collectors, so only history waits for it; the collectors' rings must hold what is not yet
// stored for an exact history→live handover (README, Sizing).
export const DEFAULT_BATCHER_OPTIONS: BatcherOptions = { maxRows: 50_000, flushIntervalMs: 500, maxPendingRows: 500_000, retryMinMs: 100, retryMaxMs: 5_000 };

/** An insert never carries fewer rows than this (unless fewer wait): a collector's batch. */
const MIN_INSERT_ROWS = 2000;

export interface BatcherStats {
  /** Rows per insert the batcher currently aims at (see insertCap). */
  insertCapRows: number;
  insertedRows: number;
  insertedBatches: number;
  insertErrors: number;
  lastInsertMs: number;
}

export class IngestBatcher {
  private current: BatchPart[] = [];
  private currentRows = 0;
  private pendingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private flushWhenIdle = false;
  private lastBatchId: number;
  private roomWaiters: Array<() => void> = [];
  private stopping = false;
  /** Parts not yet durable (or dropped), by collector session. */
  private readonly partsBySession = new Map<string, number>();
  readonly stats: BatcherStats;
  /** Rows the store inserted per ms, averaged over recent inserts; 0 before the first. */
  private rowsPerMs = 0;
  /** Batches of sessions another relay took over (shared store): dropped, never acknowledged. */
  fencedParts = 0;
  /** Called with the sessions whose parts were dropped because another relay claimed them. */
  onFenced: ((sessions: readonly string[]) => void) | null = null;
  /** Called with the duration of every successful storage insert (metrics hook). */
  onInsertDuration: ((ms: number) => void) | null = null;

  constructor(
    private readonly sink: FlowSink,
    private readonly onDurable: (batchId: number, parts: BatchPart[]) => void,
    private readonly log: Logger,
    private readonly opts: BatcherOptions = DEFAULT_BATCHER_OPTIONS,
  ) {
    // Batch ids only grow, across restarts too: they start from the clock (µs).
    this.lastBatchId = Date.now() * 1000;
    this.stats = { insertCapRows: opts.maxRows, insertedRows: 0, insertedBatches: 0, insertErrors: 0, lastInsertMs: 0 };
  }

  /**
   * Rows for the next insert: what the store inserted in one flush interval lately, within
   * [MIN_INSERT_ROWS, maxRows]. Inserts run one at a time, so an insert's duration is how long
   * the relay goes without completing one: sized this way, inserts keep completing about every
   * flush interval under overload too, instead of one huge insert stalling everything behind it
   * (the sizing converges on inserts that take one interval, fixed costs included).
   */
  private insertCap(): number {
    if (this.rowsPerMs <= 0) return this.opts.maxRows;
    return Math.max(Math.min(MIN_INSERT_ROWS, this.opts.maxRows), Math.min(this.opts.maxRows, Math.floor(this.rowsPerMs * this.opts.flushIntervalMs)));
  }

  /** The newest batch id handed out (before any insert: the id every earlier run stayed below). */
  get lastId(): number {
    return this.lastBatchId;
  }

  get hasRoom(): boolean {
    return this.pendingRows < this.opts.maxPendingRows;
  }
  get pending(): number {
    return this.pendingRows;
  }

  waitForRoom(): Promise<void> {
    return this.hasRoom ? Promise.resolve() : new Promise((r) => this.roomWaiters.push(r));
  }

  add(part: BatchPart): void {
    this.partsBySession.set(part.session, (this.partsBySession.get(part.session) ?? 0) + 1);
    this.current.push(part);
    this.currentRows += part.rows;
    this.pendingRows += part.rows;
    if (this.currentRows >= this.stats.insertCapRows) {
      if (this.inFlight === 0) this.startInsert();
      else this.flushWhenIdle = true;
    } else this.timer ??= setTimeout(() => this.onTimer(), this.opts.flushIntervalMs);
  }

  /** Group commit: while an insert is running, rows keep collecting and go out when it
   * completes, up to insertCap() rows an insert. Light load keeps the flush interval's latency;
   * under load inserts grow (each insert, a part plus the rollup's, costs merges later) but only
   * to what the store does in one flush interval. */
  private onTimer(): void {
    this.timer = null;
    if (this.inFlight > 0) {
      this.flushWhenIdle = true;
      return;
    }
    this.startInsert();
  }

  /** Starts inserts of everything collected, insertCap() rows at most each, one after another. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.current.length > 0) this.startInsert();
    return this.chain;
  }

  /** Chains one insert of the oldest parts collected, up to insertCap() rows (one part at least). */
  private startInsert(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.current.length === 0) return;
    const cap = this.insertCap();
    this.stats.insertCapRows = cap;
    let n = 0;
    let rows = 0;
    while (n < this.current.length && (n === 0 || rows + this.current[n].rows <= cap)) rows += this.current[n++].rows;
    const parts = n === this.current.length ? this.current : this.current.slice(0, n);
    this.current = n === this.current.length ? [] : this.current.slice(n);
    this.currentRows -= rows;
    // What is left has waited through this insert already: it goes as soon as it completes.
    if (this.current.length > 0) this.flushWhenIdle = true;
    this.inFlight++;
    this.chain = this.chain
      .then(() => this.insertWithRetry(parts, rows))
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0 && this.flushWhenIdle) {
          this.flushWhenIdle = false;
          this.startInsert();
        }
      });
  }

  /**
   * Resolves once no part of `session` is waiting for storage: each is durable or was dropped.
   * A collector that reconnects must be given its resume point only after that: read earlier,
   * it would resend batches that an insert still pending here then stores as well.
   */
  async settled(session: string): Promise<void> {
    while (this.partsBySession.has(session)) await this.flush();
  }

  /** Flushes everything and waits until it is durable (used on shutdown). */
  async drain(): Promise<void> {
    this.stopping = true;
    await this.flush();
  }

  private async insertWithRetry(parts: BatchPart[], rows: number): Promise<void> {
    try {
      await this.insertParts(parts, rows);
    } finally {
      for (const p of parts) {
        const n = (this.partsBySession.get(p.session) ?? 1) - 1;
        if (n > 0) this.partsBySession.set(p.session, n);
        else this.partsBySession.delete(p.session);
      }
    }
  }

  private async insertParts(parts: BatchPart[], rows: number): Promise<void> {
    const batchId = Math.max(this.lastBatchId + 1, Date.now() * 1000);
    this.lastBatchId = batchId;
    let delay = this.opts.retryMinMs;
    for (;;) {
      const t0 = performance.now();
      try {
        await this.sink.write({ batchId, parts });
        this.stats.lastInsertMs = performance.now() - t0;
        // Rows per ms of this insert, averaged with the earlier ones (new ones weigh a third).
        const r = rows / Math.max(1, this.stats.lastInsertMs);
        this.rowsPerMs = this.rowsPerMs === 0 ? r : this.rowsPerMs + (r - this.rowsPerMs) / 3;
        this.onInsertDuration?.(this.stats.lastInsertMs);
        break;
      } catch (err) {
        if (err instanceof FencedError) {
          // Those collectors resumed on another relay, from what storage held when it claimed
          // them: their batches here are that relay's to store now. Store the others.
          const gone = new Set(err.sessions);
          const kept = parts.filter((p) => !gone.has(p.session));
          this.fencedParts += parts.length - kept.length;
          const keptRows = kept.reduce((n, p) => n + p.rows, 0);
          this.pendingRows -= rows - keptRows;
          this.log.warn(
            { sessions: err.sessions, droppedParts: parts.length - kept.length },
            'sessions claimed by another relay; their batches are left to it',
          );
          this.onFenced?.(err.sessions);
          parts = kept;
          rows = keptRows;
          if (parts.length === 0) break;
          continue;
        }
        this.stats.insertErrors++;
        this.log.warn({ err: (err as Error).message, rows, retryInMs: delay }, 'storage insert failed; retrying');
        if (this.stopping && delay >= this.opts.retryMaxMs) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.opts.retryMaxMs);
      }
    }
    this.pendingRows -= rows;
    if (parts.length > 0) {
      this.stats.insertedRows += rows;
      this.stats.insertedBatches++;
      this.onDurable(batchId, parts);
    }
    if (this.hasRoom) for (const w of this.roomWaiters.splice(0)) w();
  }
}
