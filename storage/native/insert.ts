// Inserting Native blocks as they arrived (no decoding in JS): one insert carries one or more
// blocks back to back, which Native input reads as consecutive blocks. A server takes them as
// the body of `INSERT … SELECT … FROM input(…) FORMAT Native`; chDB reads them from a private
// file in memory (storage/insert-io.ts). The relay's own columns are set by the engine during
// the insert: `batch_id` for every row, and the batch's ingest marks on one row, so they commit
// in the same insert (and part) as the flows they describe.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { execInsert, openInsertFiles } from '../insert-io.js';
import { FLOW_NATIVE_COLUMNS, structureOf, type NativeColumn } from '../../schema/native/types.js';
import type { IngestMark } from '../../schema/flow-row.js';
import { fenceCondition } from '../shared.js';

/** What an insert sets beside the blocks' own values. */
export interface InsertExtras {
  /** Every row's batch_id (0: keep the blocks' values). */
  batchId: number;
  /** Ingest marks written on one row of the insert; every other row gets none. */
  marks: readonly IngestMark[];
  /** Insert only rows whose uuid is not stored under `batchId` yet: completes a batch whose
   * earlier insert landed in part. */
  skipStored?: boolean;
  /** Shared store: fail the whole insert if one of these sessions was last claimed by a relay
   * other than `relay` (see storage/shared.ts). */
  fence?: { relay: string; sessions: readonly string[] };
}

export interface NativeInserter {
  /** Inserts the blocks (each a whole Native block with the target's columns) as one insert. */
  insert(blocks: readonly Buffer[], extras?: InsertExtras, settings?: ClickHouseSettings): Promise<void>;
  close(): Promise<void>;
}

export interface NativeTarget {
  /** Table to insert into (default `flows`). */
  table?: string;
  /** The blocks' columns, in order (default: the flows table's, FLOW_NATIVE_COLUMNS). */
  columns?: readonly NativeColumn[];
}

const NO_EXTRAS: InsertExtras = { batchId: 0, marks: [] };

/** `* REPLACE (…)` of the relay's columns, with the values as query parameters. */
function selectList(table: string, columns: readonly NativeColumn[], x: InsertExtras): { sql: string; where: string; params: Record<string, unknown> } {
  const names = new Set(columns.map((c) => c.name));
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (x.batchId > 0 && names.has('batch_id')) {
    parts.push('{batch_id:UInt64} AS batch_id');
    params.batch_id = String(x.batchId);
  }
  if (names.has('ingest_sessions')) {
    // rowNumberInAllBlocks() is unique within the insert: exactly one row carries the marks, and
    // no row keeps marks of its own (blocks come from collectors, whose word is not durability).
    const one = (col: string, type: string, values: unknown[]) => {
      parts.push(`if(rowNumberInAllBlocks() = 0, {${col}:${type}}, ${col}) AS ${col}`);
      params[col] = values;
    };
    one(
      'ingest_sessions',
      'Array(String)',
      x.marks.map((m) => m.session),
    );
    one(
      'ingest_nodes',
      'Array(String)',
      x.marks.map((m) => m.node),
    );
    one(
      'ingest_seqs',
      'Array(UInt64)',
      x.marks.map((m) => m.seq),
    );
  }
  const conditions: string[] = [];
  if (x.fence && x.fence.sessions.length > 0) conditions.push(fenceCondition(params, x.fence.relay, x.fence.sessions));
  if (x.skipStored && x.batchId > 0) {
    conditions.push(`uuid NOT IN (SELECT uuid FROM ${table} WHERE batch_id = {stored_batch:UInt64})`);
    params.stored_batch = String(x.batchId);
  }
  const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
  return { sql: parts.length === 0 ? '*' : `* REPLACE (${parts.join(', ')})`, where, params };
}

function target(t: NativeTarget): { table: string; columns: readonly NativeColumn[]; list: string; structure: string } {
  const table = t.table ?? 'flows',
    columns = t.columns ?? FLOW_NATIVE_COLUMNS;
  return { table, columns, list: columns.map((c) => c.name).join(', '), structure: structureOf(columns) };
}

/** A SQL string literal of our own structure text (never user input). */
function literal(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Server: the blocks are the body of `INSERT … SELECT … FROM input(structure) FORMAT Native`. */
export function serverNativeInserter(client: ClickHouseClient, t: NativeTarget = {}): NativeInserter {
  const { table, columns, list, structure } = target(t);
  return {
    async insert(blocks, extras = NO_EXTRAS, settings = {}) {
      if (blocks.length === 0) return;
      const { sql, where, params } = selectList(table, columns, extras);
      const query = `INSERT INTO ${table} (${list}) SELECT ${sql} FROM input(${literal(structure)})${where} FORMAT Native`;
      await execInsert(client, query, blocks, settings, params);
    },
    async close() {},
  };
}

/** chDB: the blocks go to a file in memory, read with file(…, 'Native', structure). The
 * structure is given so the engine does not infer it from the file on every insert. */
export async function chdbNativeInserter(client: ClickHouseClient, t: NativeTarget = {}): Promise<NativeInserter> {
  const { table, columns, list, structure } = target(t);
  const files = await openInsertFiles('native');
  return {
    async insert(blocks, extras = NO_EXTRAS, settings = {}) {
      if (blocks.length === 0) return;
      const { sql, where, params } = selectList(table, columns, extras);
      const query = `INSERT INTO ${table} (${list}) SELECT ${sql} FROM file({f:String}, 'Native', {s:String})${where}`;
      await files.withFile(blocks, (f) => client.command({ query, query_params: { ...params, f, s: structure }, clickhouse_settings: settings }));
    },
    close: () => files.close(),
  };
}

/** The inserter for a client's kind of connection. */
export async function nativeInserter(client: ClickHouseClient, kind: 'chdb' | 'server', t: NativeTarget = {}): Promise<NativeInserter> {
  return kind === 'chdb' ? chdbNativeInserter(client, t) : serverNativeInserter(client, t);
}
