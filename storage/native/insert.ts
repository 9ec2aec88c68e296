// Inserting Native blocks as they arrived (no decoding in JS): one insert carries one or more
// blocks back to back, which Native input reads as consecutive blocks. A server takes them as
// the body of `INSERT … FORMAT Native`; chDB reads them from a private file in memory
// (storage/insert-io.ts, shared with the RowBinary path).
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { execInsert, openInsertFiles } from '../insert-io.js';
import { FLOW_NATIVE_COLUMNS, structureOf, type NativeColumn } from '../../schema/native/types.js';

export interface NativeInserter {
  /** Inserts the blocks (each a whole Native block with the target's columns) as one insert. */
  insert(blocks: readonly Buffer[], settings?: ClickHouseSettings): Promise<void>;
  close(): Promise<void>;
}

export interface NativeTarget {
  /** Table to insert into (default `flows`). */
  table?: string;
  /** The blocks' columns, in order (default: the flows table's, FLOW_NATIVE_COLUMNS). */
  columns?: readonly NativeColumn[];
}

function target(t: NativeTarget): { table: string; columns: readonly NativeColumn[]; list: string } {
  const table = t.table ?? 'flows', columns = t.columns ?? FLOW_NATIVE_COLUMNS;
  return { table, columns, list: columns.map((c) => c.name).join(', ') };
}

/** Server: the blocks are the body of `INSERT INTO table (columns) FORMAT Native`. */
export function serverNativeInserter(client: ClickHouseClient, t: NativeTarget = {}): NativeInserter {
  const { table, list } = target(t);
  const query = `INSERT INTO ${table} (${list}) FORMAT Native`;
  return {
    async insert(blocks, settings = {}) {
      if (blocks.length > 0) await execInsert(client, query, blocks, settings);
    },
    async close() {},
  };
}

/** chDB: the blocks go to a file in memory, read with file(…, 'Native', structure). The
 * structure is given so the engine does not infer it from the file on every insert. */
export async function chdbNativeInserter(client: ClickHouseClient, t: NativeTarget = {}): Promise<NativeInserter> {
  const { table, columns, list } = target(t);
  const query = `INSERT INTO ${table} (${list}) SELECT * FROM file({f:String}, 'Native', {s:String})`;
  const structure = structureOf(columns);
  const files = await openInsertFiles('native');
  return {
    async insert(blocks, settings = {}) {
      if (blocks.length === 0) return;
      await files.withFile(blocks, (f) => client.command({ query, query_params: { f, s: structure }, clickhouse_settings: settings }));
    },
    close: () => files.close(),
  };
}

/** The inserter for a client's kind of connection. */
export async function nativeInserter(client: ClickHouseClient, kind: 'chdb' | 'server', t: NativeTarget = {}): Promise<NativeInserter> {
  return kind === 'chdb' ? chdbNativeInserter(client, t) : serverNativeInserter(client, t);
}
