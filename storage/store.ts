// FlowStore: a writer client for ingest and a separate reader client for queries. On chDB
// the two are two sessions on one data directory, which run in parallel (docs/storage.md), so a
// heavy history query never stalls inserts and acks.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { Flow } from '../proto/types.js';
import { openClient, type ConnectionOptions } from './client.js';
import { migrate } from './migrations.js';
import { CLUSTER_TABLES } from './cluster.js';
import { nativeInserter, type NativeInserter } from './native/insert.js';
import { FlowBlockWriter } from '../schema/native/flow-block.js';
import type { IngestMark } from '../schema/flow-row.js';
import * as q from './query.js';
import * as rollup from './rollup-query.js';
import * as why from './why.js';
import * as shared from './shared.js';

export type { IngestMark } from '../schema/flow-row.js';
export type { FlowQuery, NamespaceSeen, NodeSeen } from './query.js';
export type { RollupRange, ServiceEdge, Talker, DropReasonCount } from './rollup-query.js';
export type { WhyQuery, WhyEvidence } from './why.js';

export interface FlowStoreOptions {
  /** Embedded chDB data directory (the default backend). */
  path?: string;
  /** Or any connection, e.g. `{ kind: 'server', url, username, password, database }`. */
  connection?: ConnectionOptions;
  /** TTL of flows in days (default 7). */
  retentionDays?: number;
  /** TTL of the per-minute rollup in days (default max(retentionDays, 30)). */
  rollupRetentionDays?: number;
  /** ClickHouse cluster name: the schema comes from `flowscope schema --cluster` (Distributed
   * tables over replicated ones) and is checked, not migrated; inserts wait for the shards. */
  cluster?: string;
  /** Larger inserts are split; ingest marks ride on the last part. */
  maxRowsPerInsert?: number;
  /** Several relays share this store: this relay's id, for session claims and the insert fence. */
  sharedRelayId?: string;
}

export interface InsertOptions {
  /**
   * Idempotency key of the insert (default: the batch id). Several inserts that share a batch
   * id but hold different rows — the Kafka ingester stores one relay batch per partition — each
   * need their own key, or ClickHouse would drop all but the first as retries.
   */
  dedupKey?: string;
  /** Insert only the rows not yet stored under the batch id (completing a batch that landed in part). */
  skipStored?: boolean;
  /** Shared store: refuse (FencedError) if a session of the marks was claimed by another relay. */
  fence?: boolean;
}

/** An insert refused because these sessions now belong to another relay; nothing was stored. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(readonly sessions: readonly string[]) {
    super(`ingest sessions claimed by another relay: ${sessions.join(', ')}`);
  }
}

/** How far back durableSeq also reads marks from the flows rows (batch ids are the relay's µs clock). */
const RECENT_MARKS_MS = 24 * 3600_000;

export class FlowStore {
  #writeChain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #extraSettings: ClickHouseSettings = {};
  readonly #blocks = new FlowBlockWriter();
  #relayId = '';

  private constructor(
    private readonly writer: ClickHouseClient,
    private readonly reader: ClickHouseClient,
    private readonly inserter: NativeInserter,
    private readonly maxRows: number,
  ) {}

  static async open(opts: FlowStoreOptions): Promise<FlowStore> {
    const conn: ConnectionOptions | undefined = opts.connection ?? (opts.path !== undefined ? { kind: 'chdb', path: opts.path } : undefined);
    if (!conn) throw new Error('FlowStore needs a chDB path or a connection');
    const writer = openClient(conn);
    let reader: ClickHouseClient | undefined;
    try {
      if (opts.cluster) await checkClusterSchema(writer, opts.cluster);
      else await migrate(writer, { retentionDays: opts.retentionDays ?? 7, rollupRetentionDays: opts.rollupRetentionDays });
      if (opts.sharedRelayId) await shared.createSharedTables(writer);
      reader = openClient(conn);
      const inserter = await nativeInserter(writer, conn.kind);
      const store = new FlowStore(writer, reader, inserter, opts.maxRowsPerInsert ?? 100_000);
      // A Distributed insert is acknowledged only once every shard has the rows (durable ack).
      if (opts.cluster) store.#extraSettings = { insert_distributed_sync: 1 };
      store.#relayId = opts.sharedRelayId ?? '';
      return store;
    } catch (e) {
      await reader?.close();
      await writer.close();
      throw e;
    }
  }

  /** Resolves once the flows and their ingest marks are stored (the insert completed). A
   * non-zero `batchId` makes the insert idempotent: a retry of the same batch id (same flows)
   * is deduplicated by ClickHouse instead of stored twice. The flows are encoded as the
   * collectors encode them (Native blocks of at most maxRowsPerInsert rows). */
  insert(flows: readonly Flow[], progress: readonly IngestMark[] = [], batchId = 0, opts: InsertOptions = {}): Promise<void> {
    const now = Date.now();
    const chunks: Buffer[][] = [];
    for (let start = 0; start < flows.length; start += this.maxRows) {
      this.#blocks.reset();
      const end = Math.min(start + this.maxRows, flows.length);
      for (let i = start; i < end; i++) this.#blocks.add(flows[i], undefined, now);
      chunks.push([this.#blocks.finish()]);
    }
    // One insert per chunk, each with its own deduplication token; marks ride on the last.
    return this.#serialised(async () => {
      for (let part = 0; part < chunks.length; part++) {
        await this.#insertNow(chunks[part], part === chunks.length - 1 ? progress : [], batchId, opts.dedupKey ?? String(batchId), part);
      }
      if (chunks.length === 0) await this.#insertNow([], progress, batchId, '', 0);
    });
  }

  /** Inserts Native blocks of the flows table's columns as they are (the relay's path: blocks
   * built by the collectors, checked by the relay), as one insert. The insert sets every row's
   * batch_id and writes the ingest marks on one row, so marks become durable with their flows. */
  insertBlocks(blocks: readonly Buffer[], progress: readonly IngestMark[] = [], batchId = 0, opts: InsertOptions = {}): Promise<void> {
    const fence = opts.fence && this.#relayId ? { relay: this.#relayId, sessions: [...new Set(progress.map((m) => m.session))] } : undefined;
    return this.#serialised(async () => {
      try {
        await this.#insertNow(blocks, progress, batchId, opts.dedupKey ?? String(batchId), 0, opts.skipStored ?? false, fence);
      } catch (err) {
        if (!fence || !String((err as Error).message).includes(shared.FENCE_MARKER)) throw err;
        const lost = await shared.sessionsClaimedElsewhere(this.reader, fence.sessions, fence.relay);
        if (lost.length === 0) throw err;
        throw new FencedError(lost);
      }
    });
  }

  /** Shared store: this relay takes the collector session; inserts of any other relay for it are
   * refused from now on. Written through the writer, after every insert this relay started. */
  claimSession(session: string): Promise<void> {
    if (!this.#relayId) return Promise.resolve();
    return this.#serialised(() => shared.claimSession(this.writer, session, this.#relayId));
  }

  /** Shared store: records this relay's collectors. */
  writeRegistrations(regs: Parameters<typeof shared.writeRegistrations>[2]): Promise<void> {
    return shared.writeRegistrations(this.reader, this.#relayId, regs);
  }

  /** Shared store: the latest registration of every collector written in the last `windowMs`. */
  readRegistrations(windowMs: number): Promise<shared.NodeRegistration[]> {
    return shared.readRegistrations(this.reader, windowMs);
  }

  /** Runs inserts one after another, so marks are written in call order and one writer session
   * is never contended. */
  #serialised(insert: () => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('FlowStore is closed'));
    const run = this.#writeChain.then(insert);
    this.#writeChain = run.catch(() => undefined);
    return run;
  }

  /** Alias matching the ingest contract's naming. */
  insertBatch(flows: readonly Flow[], progress: readonly IngestMark[] = []): Promise<void> {
    return this.insert(flows, progress);
  }

  async #insertNow(
    blocks: readonly Buffer[],
    progress: readonly IngestMark[],
    batchId: number,
    dedupKey: string,
    part: number,
    skipStored = false,
    fence?: { relay: string; sessions: string[] },
  ): Promise<void> {
    if (blocks.length > 0) {
      await this.inserter.insert(
        blocks,
        { batchId, marks: progress, skipStored, fence },
        { ...this.#extraSettings, ...dedupSettings(batchId, dedupKey, part) },
      );
    } else if (progress.length > 0) {
      // No rows to carry the marks (e.g. a batch of only lost events): record them directly.
      await this.writer.insert({
        table: 'ingest_progress',
        columns: ['session', 'node', 'seq'],
        format: 'JSONCompactEachRow',
        values: progress.map((m) => [m.session, m.node, m.seq]),
      });
    }
  }

  /** Highest sequence number stored for a collector session (0 if none). */
  async durableSeq(session: string): Promise<number> {
    // ingest_progress is written by a materialized view after the flows' part is committed: a
    // process killed in between (SIGKILL mid-insert) leaves rows whose marks only the flows
    // table holds. So the marks in recent flows rows count too (PREWHERE reads little: all but
    // one row of an insert have no marks).
    const rs = await this.reader.query({
      query: `SELECT toString(greatest(
          (SELECT max(seq) FROM ingest_progress WHERE session = {s:String}),
          (SELECT max(m.2) FROM flows ARRAY JOIN arrayZip(ingest_sessions, ingest_seqs) AS m
            PREWHERE notEmpty(ingest_sessions) WHERE batch_id >= {recent:UInt64} AND m.1 = {s:String})))`,
      query_params: { s: session, recent: String((Date.now() - RECENT_MARKS_MS) * 1000) },
      format: 'JSONCompactEachRow',
    });
    const got = await rs.json<[string]>();
    return got.length === 0 ? 0 : Number(got[0][0]);
  }

  /**
   * Per collector session, the greatest flow_seq stored (the flow_marks view): the snapshot a
   * follow cuts history at. Conservative — the view writes after the flows part commits, so a
   * mark may trail the flows table, never lead it; rows above a mark are served live from the
   * collector's ring, so trailing costs nothing but a longer ring read.
   */
  async liveMarks(): Promise<Map<string, number>> {
    const rs = await this.reader.query({
      query: 'SELECT session, toString(max(seq)) FROM flow_marks GROUP BY session',
      format: 'JSONCompactEachRow',
    });
    const out = new Map<string, number>();
    for (const [s, seq] of await rs.json<[string, string]>()) out.set(s, Number(seq));
    return out;
  }

  /**
   * Rows stored with a batch id: a spool replay inserts only what is missing, so a batch whose
   * insert timed out but landed is never stored twice. Any writer's ids are distinct (µs clock).
   */
  async storedRows(batchId: number): Promise<number> {
    const rs = await this.reader.query({
      query: 'SELECT toString(count()) FROM flows WHERE batch_id = {b:UInt64}',
      query_params: { b: String(batchId) },
      format: 'JSONCompactEachRow',
    });
    const got = await rs.json<[string]>();
    return got.length === 0 ? 0 : Number(got[0][0]);
  }

  queryFlows(query: q.FlowQuery): AsyncIterable<Flow> {
    return q.queryFlows(this.reader, query);
  }

  countFlows(query?: Omit<q.FlowQuery, 'number' | 'first' | 'pageSize'>): Promise<number> {
    return q.countFlows(this.reader, query);
  }

  /** Namespaces seen since `sinceMs` (default: the last hour), sorted by cluster, namespace. */
  namespaces(sinceMs = Date.now() - 3_600_000, scope?: readonly string[]): Promise<q.NamespaceSeen[]> {
    return q.namespaces(this.reader, sinceMs, scope);
  }

  nodes(): Promise<q.NodeSeen[]> {
    return q.nodes(this.reader);
  }

  serviceMap(r: rollup.RollupRange): Promise<rollup.ServiceEdge[]> {
    return rollup.serviceMap(this.reader, r);
  }
  topTalkers(r: rollup.RollupRange): Promise<rollup.Talker[]> {
    return rollup.topTalkers(this.reader, r);
  }
  topDropReasons(r: rollup.RollupRange): Promise<rollup.DropReasonCount[]> {
    return rollup.topDropReasons(this.reader, r);
  }

  /** The evidence `flowscope why` reports for one pair of endpoints (storage/why.ts). */
  whyEvidence(query: why.WhyQuery): Promise<why.WhyEvidence> {
    return why.whyEvidence(this.reader, query);
  }

  /** Waits for pending inserts, then closes both sessions. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writeChain;
    await this.inserter.close();
    await this.reader.close();
    await this.writer.close();
  }
}

async function checkClusterSchema(client: ClickHouseClient, cluster: string): Promise<void> {
  const rs = await client.query({ query: 'SELECT name FROM system.tables WHERE database = currentDatabase()', format: 'JSONEachRow' });
  const have = new Set((await rs.json<{ name: string }>()).map((r) => r.name));
  const missing = CLUSTER_TABLES.filter((t) => !have.has(t));
  if (missing.length > 0) {
    throw new Error(`cluster schema incomplete (missing ${missing.join(', ')}): apply \`flowscope schema --cluster ${cluster}\` with clickhouse-client first`);
  }
}

/** Insert settings for one part of a batch: the batch id names the block, so a retried
 * insert of the same part is dropped by ClickHouse, together with its materialized-view rows. */
export function dedupSettings(batchId: number, dedupKey: string, part: number): ClickHouseSettings {
  if (batchId <= 0) return {};
  return { insert_deduplicate: 1, insert_deduplication_token: `flows-${dedupKey}-${part}`, deduplicate_blocks_in_dependent_materialized_views: 1 };
}
