// Insert bodies: RowBinary built straight from the flows (schema/flow-row.ts), and the two ways
// of handing it to ClickHouse through @clickhouse/client (storage/insert-io.ts) — a server takes
// the bytes as the body of `INSERT … FORMAT RowBinary`; chDB's connection turns insert bodies
// into strings, so there the bytes go through a file in memory (`INSERT … SELECT FROM file(…,
// RowBinary)`).
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { execInsert, openInsertFiles } from '../storage/insert-io.js';
import { writeFlowRow, type IngestMark } from '../schema/flow-row.js';
import { RowBinaryWriter } from '../schema/rowbinary.js';
import { FLOW_COLUMNS } from '../storage/schema.js';
import type { Flow } from '../proto/types.js';

/** RowBinary rows of a batch; ingest marks go on the last row so they commit with its flows. */
export function encodeBatch(w: RowBinaryWriter, flows: readonly Flow[], marks: readonly IngestMark[], now = Date.now(), batchId = 0): Buffer {
  w.reset();
  const last = flows.length - 1;
  for (let i = 0; i < flows.length; i++) writeFlowRow(w, flows[i], i === last ? marks : undefined, now, batchId);
  return w.bytes();
}

const COLUMN_LIST = FLOW_COLUMNS.map((c) => c.name).join(', ');
// file() needs the structure without codecs.
const STRUCTURE = FLOW_COLUMNS.map((c) => `${c.name} ${c.type.replace(/\s+CODEC\(.*\)$/, '')}`).join(', ');

export interface RowBinaryInserter {
  insert(body: Buffer, settings: ClickHouseSettings): Promise<void>;
  close(): Promise<void>;
}

/** Server: the RowBinary body goes in the HTTP request. */
export function serverInserter(client: ClickHouseClient): RowBinaryInserter {
  return {
    insert: (body, settings) => execInsert(client, `INSERT INTO flows (${COLUMN_LIST}) FORMAT RowBinary`, [body], settings),
    async close() {},
  };
}

/** chDB: the body is written to a private file in memory and read by the engine's file(). */
export async function chdbInserter(client: ClickHouseClient): Promise<RowBinaryInserter> {
  const files = await openInsertFiles('rowbinary');
  return {
    insert: (body, settings) =>
      files
        .withFile([body], (f) =>
          client.command({
            query: `INSERT INTO flows (${COLUMN_LIST}) SELECT * FROM file({f:String}, 'RowBinary', {s:String})`,
            query_params: { f, s: STRUCTURE },
            clickhouse_settings: settings,
          }),
        )
        .then(() => undefined),
    close: () => files.close(),
  };
}
