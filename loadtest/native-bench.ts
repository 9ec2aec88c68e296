// Benchmark (not a test) of the Native insert path against RowBinary, in one run on the same
// rows: `node dist/storage/native/bench.js [--rows 500000] [--batch 50000] [--pool 50000]`.
//  - JS cost per row (best of three passes): writeFlowRow into RowBinary, into Native blocks (LowCardinality as
//    dictionaries), into Native blocks declaring the LowCardinality columns as String, and the
//    validator on the Native blocks;
//  - chDB insert cost per row into the migrated flows table (views included, merges stopped so
//    background work does not land in the figures): process CPU (all threads: the engine runs on
//    ours) and wall time around each insert, formats interleaved batch by batch;
//  - bytes per row of each body.
// Prints one JSON object.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Flow } from '../proto/types.js';
import { FlowStore } from '../storage/store.js';
import { openClient } from '../storage/client.js';
import { RowBinaryWriter } from '../schema/rowbinary.js';
import { encodeBatch, chdbInserter } from './rowbinary-insert.js';
import { realisticFlows } from '../testing/realistic-flows.js';
import { ingestBatches } from './storage-bench.js';
import { FlowBlockWriter, encodeFlowBlock } from '../schema/native/flow-block.js';
import { validateNativeBlock } from '../schema/native/validate.js';
import { chdbNativeInserter } from '../storage/native/insert.js';
import { FLOW_NATIVE_COLUMNS, type NativeColumn } from '../schema/native/types.js';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '500000' }, batch: { type: 'string', default: '50000' }, pool: { type: 'string', default: '50000' } },
});
const ROWS = Number(args.rows),
  BATCH = Number(args.batch),
  POOL = Number(args.pool);

/** The flows columns with LowCardinality declared as plain String (the alternative measured). */
const LC_AS_STRING: readonly NativeColumn[] = FLOW_NATIVE_COLUMNS.map((c) => ({ name: c.name, type: c.type.replace(/LowCardinality\(String\)/g, 'String') }));

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** µs per row of `encode` over every batch: the fastest of three passes (JIT warm-up and GC
 * pauses make single passes noisy). */
function timeEncode(batches: readonly Flow[][], encode: (b: readonly Flow[]) => Buffer): { bodies: Buffer[]; usPerRow: number } {
  let best = Infinity,
    bodies: Buffer[] = [];
  for (let pass = 0; pass < 3; pass++) {
    bodies = [];
    let ms = 0,
      rows = 0;
    for (const b of batches) {
      const t = performance.now();
      const body = encode(b);
      ms += performance.now() - t;
      rows += b.length;
      bodies.push(Buffer.from(body)); // a copy: RowBinary returns a view of its reused buffer
    }
    best = Math.min(best, (ms * 1000) / rows);
  }
  return { bodies, usPerRow: best };
}

function timeValidate(blocks: readonly Buffer[], rowsPerBlock: readonly number[], cols: readonly NativeColumn[]): number {
  const limits = { maxRows: BATCH, maxBytes: 1 << 30 };
  let best = Infinity;
  for (let pass = 0; pass < 3; pass++) {
    const t = performance.now();
    let rows = 0;
    for (let i = 0; i < blocks.length; i++) {
      if (validateNativeBlock(blocks[i], cols, limits).rows !== rowsPerBlock[i]) throw new Error('row count');
      rows += rowsPerBlock[i];
    }
    best = Math.min(best, ((performance.now() - t) * 1000) / rows);
  }
  return best;
}

interface Format {
  name: string;
  bodies: Buffer[];
  insert: (body: Buffer) => Promise<void>;
  cpuUs: number;
  wallMs: number;
}

async function main(): Promise<void> {
  const pool = realisticFlows(Math.min(POOL, ROWS), { nodes: 4, seed: 1 });
  const batches = ingestBatches(pool, ROWS, BATCH);
  const rowsPerBatch = batches.map((b) => b.length);
  const now = Date.now();

  const rbWriter = new RowBinaryWriter(1 << 24);
  const rb = timeEncode(batches, (b) => encodeBatch(rbWriter, b, [], now, 0));
  const nw = new FlowBlockWriter();
  const native = timeEncode(batches, (b) => encodeFlowBlock(nw, b, [], now, 0));
  const sw = new FlowBlockWriter(LC_AS_STRING);
  const nativeStr = timeEncode(batches, (b) => encodeFlowBlock(sw, b, [], now, 0));
  const validateUs = timeValidate(native.bodies, rowsPerBatch, FLOW_NATIVE_COLUMNS);
  const validateStrUs = timeValidate(nativeStr.bodies, rowsPerBatch, LC_AS_STRING);

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-native-bench-'));
  try {
    await (await FlowStore.open({ path: dir })).close(); // the real schema, views included
    const client = openClient({ kind: 'chdb', path: dir });
    await client.command({ query: 'SYSTEM STOP MERGES flows' });
    const rbIns = await chdbInserter(client);
    const nIns = await chdbNativeInserter(client);
    // Declared as String in the block and in file()'s structure: the INSERT converts to LowCardinality.
    const sIns = await chdbNativeInserter(client, { columns: LC_AS_STRING });
    const formats: Format[] = [
      { name: 'rowbinary', bodies: rb.bodies, insert: (b) => rbIns.insert(b, {}), cpuUs: 0, wallMs: 0 },
      { name: 'native', bodies: native.bodies, insert: (b) => nIns.insert([b]), cpuUs: 0, wallMs: 0 },
      { name: 'native_lowcardinality_as_string', bodies: nativeStr.bodies, insert: (b) => sIns.insert([b]), cpuUs: 0, wallMs: 0 },
    ];
    for (const f of formats) await f.insert(f.bodies[0]); // warm-up, not counted
    for (let i = 0; i < batches.length; i++) {
      for (let k = 0; k < formats.length; k++) {
        const f = formats[(i + k) % formats.length]; // rotate the order batch by batch
        const c = process.cpuUsage(),
          t = performance.now();
        await f.insert(f.bodies[i]);
        f.wallMs += performance.now() - t;
        const d = process.cpuUsage(c);
        f.cpuUs += d.user + d.system;
      }
    }
    await rbIns.close();
    await nIns.close();
    await sIns.close();
    await client.close();

    const per = (x: number) => round(x / ROWS);
    const bytes = (bs: Buffer[]) => round(bs.reduce((s, b) => s + b.length, 0) / ROWS, 1);
    console.log(
      JSON.stringify(
        {
          rows: ROWS,
          batch: BATCH,
          pool: pool.length,
          cores: os.availableParallelism(),
          js_us_per_row: {
            rowbinary_encode: round(rb.usPerRow),
            native_encode: round(native.usPerRow),
            native_lowcardinality_as_string_encode: round(nativeStr.usPerRow),
            native_validate: round(validateUs, 3),
            native_lowcardinality_as_string_validate: round(validateStrUs, 3),
          },
          insert_cpu_us_per_row: Object.fromEntries(formats.map((f) => [f.name, per(f.cpuUs)])),
          insert_wall_us_per_row: Object.fromEntries(formats.map((f) => [f.name, per(f.wallMs * 1000)])),
          bytes_per_row: { rowbinary: bytes(rb.bodies), native: bytes(native.bodies), native_lowcardinality_as_string: bytes(nativeStr.bodies) },
        },
        null,
        2,
      ),
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

await main();
