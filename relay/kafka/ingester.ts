// `flowscope ingester`: a Kafka consumer group member that writes the relay's batches to
// ClickHouse. Offsets are committed only after the insert that holds them succeeded, so a
// crash re-delivers at most the uncommitted tail; those re-deliveries (and batches a restarted
// relay produced twice) are recognised by their collector (session, seq) ingest marks, which
// are stored atomically with the rows, and skipped: every flow is stored once.
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { Gauge, register } from 'prom-client';
import type { Logger } from '../../common/logger.js';
import { validateNativeBlock } from '../../schema/native/validate.js';
import { FLOW_NATIVE_COLUMNS } from '../../schema/native/types.js';
import { decodeDurableBatch, type IngestMark } from '../sinks/sink.js';
import { kafkaClient, type KafkaConnection } from './client.js';

/** What the ingester needs from storage (FlowStore has it). */
export interface IngesterStore {
  /** `dedupKey`: the insert's idempotency key; ClickHouse drops a second insert with the same key. */
  insertBlocks(blocks: readonly Buffer[], progress: readonly IngestMark[], batchId: number, opts?: { dedupKey?: string }): Promise<void>;
  durableSeq(session: string): Promise<number>;
}

export interface IngesterOptions extends KafkaConnection {
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  retryMinMs: number;
  retryMaxMs: number;
}

export const DEFAULT_INGESTER_OPTIONS = { sessionTimeoutMs: 30_000, heartbeatIntervalMs: 3_000, retryMinMs: 100, retryMaxMs: 5_000 } as const;

export interface IngesterStats {
  messages: number;
  insertedRows: number;
  inserts: number;
  duplicateParts: number;
  insertErrors: number;
  badMessages: number;
  commits: number;
}

const LAG_METRIC = 'flowscope_kafka_consumer_lag';
/** Rows one block may hold (collectors send at most a few thousand). */
const MAX_BLOCK_ROWS = 1 << 20;

/** Messages a partition holds beyond what this group committed (per topic, partition). */
export function consumerLagGauge(): Gauge<'topic' | 'partition'> {
  return (
    (register.getSingleMetric(LAG_METRIC) as Gauge<'topic' | 'partition'> | undefined) ??
    new Gauge({ name: LAG_METRIC, help: 'Kafka messages not yet stored and committed by the flowscope ingester', labelNames: ['topic', 'partition'] })
  );
}

export class KafkaIngester {
  readonly stats: IngesterStats = { messages: 0, insertedRows: 0, inserts: 0, duplicateParts: 0, insertErrors: 0, badMessages: 0, commits: 0 };
  private readonly consumer: Consumer;
  private readonly lag = consumerLagGauge();
  /** Highest stored seq per collector session, seeded from storage on first sight. */
  private readonly storedSeq = new Map<string, number>();

  constructor(
    private readonly store: IngesterStore,
    private readonly opts: IngesterOptions,
    private readonly log: Logger,
  ) {
    this.consumer = kafkaClient(opts, log).consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeoutMs,
      heartbeatInterval: opts.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
    });
    // After a rebalance another member may have stored more of a session: ask storage again.
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.storedSeq.clear());
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.onBatch(p) });
    this.log.info({ topic: this.opts.topic, group: this.opts.groupId }, 'ingester consuming');
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async onBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const { topic, partition } = batch;
    let group: { batchId: number; blocks: Buffer[]; rows: number; marks: IngestMark[]; lastOffset: string; firstIncluded: string; included: number } | null =
      null;
    const flush = async () => {
      if (!group) return;
      const g = group;
      group = null;
      // One relay batch reaches storage as one insert per partition (and a redelivery may group
      // it differently), so the batch id alone is no idempotency key: name the messages too.
      const dedupKey = `${g.batchId}-p${partition}-${g.firstIncluded}-${g.lastOffset}-${g.included}`;
      await this.insertWithRetry(p, g.blocks, g.rows, g.marks, g.batchId, dedupKey);
      p.resolveOffset(g.lastOffset);
      await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(g.lastOffset) + 1n).toString() }]);
      this.stats.commits++;
      this.lag.set({ topic, partition: String(partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(g.lastOffset) - 1n)));
      await p.heartbeat();
    };
    for (const m of batch.messages) {
      if (!p.isRunning() || p.isStale()) break;
      this.stats.messages++;
      const decoded = this.decode(m);
      // One insert per relay batch: rows keep the relay's batch id, the live feed's cursor.
      if (group && decoded && decoded.batchId !== group.batchId) await flush();
      group ??= { batchId: decoded?.batchId ?? 0, blocks: [], rows: 0, marks: [], lastOffset: m.offset, firstIncluded: '', included: 0 };
      group.lastOffset = m.offset;
      if (!decoded) continue;
      if (group.batchId === 0) group.batchId = decoded.batchId;
      if (!(await this.isNew(decoded.marks, group.marks))) {
        this.stats.duplicateParts++;
        continue;
      }
      if (group.included++ === 0) group.firstIncluded = m.offset;
      for (const b of decoded.blocks) group.blocks.push(b);
      group.rows += decoded.rows;
      for (const k of decoded.marks) group.marks.push(k);
    }
    await flush();
  }

  private decode(m: KafkaMessage): ReturnType<typeof decodeDurableBatch> | null {
    try {
      if (!m.value) throw new Error('empty message');
      const batch = decodeDurableBatch(m.value);
      // The topic is shared infrastructure: a block is checked before it can reach an insert.
      for (const b of batch.blocks) validateNativeBlock(b, FLOW_NATIVE_COLUMNS, { maxRows: MAX_BLOCK_ROWS, maxBytes: m.value.length });
      return batch;
    } catch (err) {
      // Not ours (or corrupt): counted and skipped, it can never become insertable.
      this.stats.badMessages++;
      this.log.warn({ offset: m.offset, err: (err as Error).message }, 'undecodable Kafka message skipped');
      return null;
    }
  }

  /** Whether a part's marks are beyond what storage (or this pending insert) already has. */
  private async isNew(marks: readonly IngestMark[], pending: readonly IngestMark[]): Promise<boolean> {
    for (const k of marks) {
      let stored = this.storedSeq.get(k.session);
      if (stored === undefined) {
        stored = await this.store.durableSeq(k.session);
        this.storedSeq.set(k.session, stored);
      }
      for (const q of pending) if (q.session === k.session && q.seq > stored) stored = q.seq;
      if (k.seq <= stored) return false;
    }
    return true;
  }

  private async insertWithRetry(p: EachBatchPayload, blocks: Buffer[], rows: number, marks: IngestMark[], batchId: number, dedupKey: string): Promise<void> {
    if (blocks.length === 0 && marks.length === 0) return;
    let delay = this.opts.retryMinMs;
    for (;;) {
      try {
        await this.store.insertBlocks(blocks, marks, batchId, { dedupKey });
        break;
      } catch (err) {
        this.stats.insertErrors++;
        if (!p.isRunning()) throw err; // shutting down: leave the offsets uncommitted
        this.log.warn({ err: (err as Error).message, rows, retryInMs: delay }, 'storage insert failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
        await p.heartbeat();
        delay = Math.min(delay * 2, this.opts.retryMaxMs);
      }
    }
    for (const k of marks) if (k.seq > (this.storedSeq.get(k.session) ?? 0)) this.storedSeq.set(k.session, k.seq);
    this.stats.inserts++;
    this.stats.insertedRows += rows;
  }
}
