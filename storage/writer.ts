// Insert bodies: RowBinary built straight from the flows (storage/codec.ts), and the two ways
// of handing it to ClickHouse through @clickhouse/client — a server takes the bytes as the
// body of `INSERT … FORMAT RowBinary`; chDB's connection turns insert bodies into strings, so
// there the bytes go through a file in memory (`INSERT … SELECT FROM file(…, RowBinary)`).
import fs from 'node:fs/promises';
import { writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { writeFlowRow, type IngestMark } from './codec.js';
import { RowBinaryWriter } from './rowbinary.js';
import { FLOW_COLUMNS } from './schema.js';
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
    async insert(body, settings) {
      const res = await client.exec({ query: `INSERT INTO flows (${COLUMN_LIST}) FORMAT RowBinary`, values: Readable.from([body]), clickhouse_settings: settings });
      res.stream.resume();
      await new Promise<void>((resolve, reject) => { res.stream.once('end', resolve); res.stream.once('error', reject); });
    },
    async close() {},
  };
}

function memoryTmpDir(): string {
  return process.platform === 'linux' ? '/dev/shm' : os.tmpdir();
}

function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Removes insert directories left behind by processes that died (their names carry the pid). */
async function removeStaleInsertDirs(parent: string): Promise<void> {
  let names: string[];
  try { names = await fs.readdir(parent); } catch { return; }
  for (const n of names) {
    const m = /^flowscope-insert-(\d+)-/.exec(n);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) await fs.rm(path.join(parent, n), { recursive: true, force: true });
  }
}

/** chDB: the body is written to a private file in memory and read by the engine's file(). */
export async function chdbInserter(client: ClickHouseClient): Promise<RowBinaryInserter> {
  let dir: string;
  try {
    await removeStaleInsertDirs(memoryTmpDir());
    dir = await fs.mkdtemp(path.join(memoryTmpDir(), `flowscope-insert-${process.pid}-`));
  } catch {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), `flowscope-insert-${process.pid}-`));
  }
  const file = path.join(dir, `${randomUUID()}.rowbinary`);
  return {
    async insert(body, settings) {
      // Synchronous on purpose: chDB runs its calls on libuv's thread pool, and an insert must not
      // wait for a pool thread behind them. Writing tens of MB to tmpfs takes milliseconds.
      writeFileSync(file, body);
      try {
        await client.command({
          query: `INSERT INTO flows (${COLUMN_LIST}) SELECT * FROM file({f:String}, 'RowBinary', {s:String})`,
          query_params: { f: file, s: STRUCTURE }, clickhouse_settings: settings,
        });
      } finally {
        rmSync(file, { force: true });
      }
    },
    async close() { await fs.rm(dir, { recursive: true, force: true }); },
  };
}
