// One chDB data directory for this file (one per process: docs/storage.md).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { types, encode, decode, type Flow } from '../../proto/index.js';
import { FlowStore, dedupSettings } from '../store.js';
import { openClient } from '../client.js';
import { genFlows } from '../../testing/gen-flows.js';
import { chdbNativeInserter, serverNativeInserter } from './insert.js';
import { FlowBlockWriter, encodeFlowBlock } from '../../schema/native/flow-block.js';
import { validateNativeBlock } from '../../schema/native/validate.js';
import { FLOW_NATIVE_COLUMNS } from '../../schema/native/types.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-native-insert-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

const canonical = (f: Flow): Flow => decode<Flow>(types.Flow, encode(types.Flow, f));
const collect = async (it: AsyncIterable<Flow>) => {
  const out: Flow[] = [];
  for await (const f of it) out.push(f);
  return out;
};
const byUuid = (xs: Flow[]) => [...xs].sort((a, b) => (a.uuid! < b.uuid! ? -1 : 1));

test('Native blocks of flows go into the real flows table and read back losslessly; the insert sets batch id and marks; dedup', async () => {
  const store = await FlowStore.open({ path: dir }); // the real schema, by the migrations
  const client = openClient({ kind: 'chdb', path: dir }); // a second session on the same directory
  const ins = await chdbNativeInserter(client);
  try {
    const flows = genFlows(2000, 31, Math.floor(Date.now() / 1000) - 600).map(canonical);
    const w = new FlowBlockWriter();
    const now = Date.now(),
      batchId = 77;
    // As collectors build them: no batch id, no marks; the relay's insert sets both.
    const blocks = [encodeFlowBlock(w, flows.slice(0, 1200), [], now), encodeFlowBlock(w, flows.slice(1200), [], now)];
    for (const b of blocks) validateNativeBlock(b, FLOW_NATIVE_COLUMNS, { maxRows: 10_000, maxBytes: 1 << 24 });
    const extras = {
      batchId,
      marks: [
        { session: 'sess-a', node: 'k8s1', seq: 41 },
        { session: 'sess-b', node: 'k8s2', seq: 3 },
      ],
    };
    const settings = dedupSettings(batchId, String(batchId), 0);
    await ins.insert(blocks, extras, settings);

    const got = byUuid(await collect(store.queryFlows({ pageSize: 900 })));
    const want = byUuid(flows);
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) assert.deepStrictEqual(got[i], want[i], `flow ${want[i].uuid}`);
    assert.equal(await store.durableSeq('sess-a'), 41, 'marks reached ingest_progress through the view');
    assert.equal(await store.durableSeq('sess-b'), 3);
    assert.equal(await store.storedRows(batchId), flows.length);

    const marked = await client.query({ query: 'SELECT count() FROM flows WHERE length(ingest_sessions) > 0', format: 'JSONCompactEachRow' });
    assert.deepEqual(await marked.json(), [[1]], 'one row carries the marks');
    await ins.insert(blocks, extras, settings); // a retry with the same token is dropped
    assert.equal(await store.countFlows(), flows.length);
    await ins.insert(blocks, extras, dedupSettings(batchId, String(batchId), 1)); // another part is not
    assert.equal(await store.countFlows(), 2 * flows.length);
  } finally {
    await ins.close();
    await client.close();
    await store.close();
  }
});

test('server: the blocks are the body of INSERT … SELECT … FROM input(…) FORMAT Native, batch id and marks as parameters, settings go along', async () => {
  const seen: { url: string; body: Buffer }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body: Buffer.concat(chunks) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = createClient({ url: `http://127.0.0.1:${port}` });
  try {
    const w = new FlowBlockWriter();
    const blocks = [encodeFlowBlock(w, genFlows(5, 1)), encodeFlowBlock(w, genFlows(3, 2))];
    await serverNativeInserter(client).insert(blocks, { batchId: 9, marks: [{ session: 's', node: 'n', seq: 5 }] }, dedupSettings(9, '9', 2));
    assert.equal(seen.length, 1);
    const url = new URL(seen[0].url, 'http://x');
    const query = url.searchParams.get('query') ?? '';
    assert.ok(
      query.startsWith(`INSERT INTO flows (${FLOW_NATIVE_COLUMNS.map((c) => c.name).join(', ')}) SELECT * REPLACE ({batch_id:UInt64} AS batch_id`),
      query,
    );
    assert.ok(query.endsWith(') FORMAT Native') && query.includes('FROM input('), query);
    assert.equal(url.searchParams.get('param_batch_id'), '9');
    assert.equal(url.searchParams.get('param_ingest_seqs'), '[5]');
    assert.equal(url.searchParams.get('insert_deduplication_token'), 'flows-9-2');
    assert.ok(seen[0].body.equals(Buffer.concat(blocks)), 'the body is the blocks, back to back');
  } finally {
    await client.close();
    server.close();
  }
});
