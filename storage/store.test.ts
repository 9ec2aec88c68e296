// One chDB data directory per test file (see docs/storage.md for the per-process rule).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { types, encode, decode, type Flow } from '../proto/index.js';
import { FlowStore } from './store.js';
import { genFlows } from '../testing/gen-flows.js';
import { FlowBlockWriter } from '../schema/native/flow-block.js';

const canonical = (f: Flow): Flow => decode<Flow>(types.Flow, encode(types.Flow, f));
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-store-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

const collect = async (it: AsyncIterable<Flow>) => {
  const out: Flow[] = [];
  for await (const f of it) out.push(f);
  return out;
};
const byUuid = (xs: Flow[]) => [...xs].sort((a, b) => (a.uuid! < b.uuid! ? -1 : 1));
const base = Math.floor(Date.now() / 1000) - 600;
const flows = genFlows(3000, 7, base).map(canonical);

test('lossless round trip, GetFlows semantics, progress, restart', async () => {
  let store = await FlowStore.open({ path: dir });
  await store.insert(flows.slice(0, 1500), [{ session: 's1', node: 'k8s1', seq: 1 }]);
  await store.insert(flows.slice(1500), [
    { session: 's1', node: 'k8s1', seq: 2 },
    { session: 's2', node: 'k8s2', seq: 9 },
  ]);
  await store.insert([], [{ session: 's3', node: 'k8s2', seq: 4 }]);

  const all = await collect(store.queryFlows({ pageSize: 700 }));
  assert.equal(all.length, flows.length);
  for (let i = 1; i < all.length; i++) {
    const [a, b] = [all[i - 1].time!, all[i].time!];
    assert.ok(a.seconds < b.seconds || (a.seconds === b.seconds && (a.nanos ?? 0) <= (b.nanos ?? 0)), 'ascending time');
  }
  const want = byUuid(flows),
    got = byUuid(all);
  for (let i = 0; i < want.length; i++) assert.deepStrictEqual(got[i], want[i], `flow ${want[i].uuid}`);

  // Ties on time are ordered by uuid, as the store orders them.
  const sorted = [...flows].sort(
    (a, b) => a.time!.seconds - b.time!.seconds || (a.time!.nanos ?? 0) - (b.time!.nanos ?? 0) || (a.uuid! < b.uuid! ? -1 : a.uuid! > b.uuid! ? 1 : 0),
  );
  const last5 = await collect(store.queryFlows({ number: 5 }));
  assert.deepStrictEqual(
    last5.map((f) => f.uuid),
    sorted.slice(-5).map((f) => f.uuid),
  );
  const first5 = await collect(store.queryFlows({ number: 5, first: true }));
  assert.deepStrictEqual(
    first5.map((f) => f.uuid),
    sorted.slice(0, 5).map((f) => f.uuid),
  );
  const mid = sorted[1000].time!,
    later = sorted[1200].time!;
  const ranged = await collect(store.queryFlows({ since: mid, until: later }));
  assert.deepStrictEqual(new Set(ranged.map((f) => f.uuid)), new Set(sorted.slice(1000, 1201).map((f) => f.uuid)));
  const dropped = await collect(store.queryFlows({ whitelist: [{ verdict: [2] }], number: 0 }));
  assert.equal(dropped.length, flows.filter((f) => f.verdict === 2).length);
  assert.equal(await store.countFlows(), flows.length);

  assert.equal(await store.durableSeq('s1'), 2);
  assert.equal(await store.durableSeq('s2'), 9);
  assert.equal(await store.durableSeq('s3'), 4);
  assert.equal(await store.durableSeq('nope'), 0);
  const ns = await store.namespaces(Date.now() - 3_600_000);
  assert.ok(ns.some((n) => n.namespace === 'shop'));
  assert.deepStrictEqual(
    ns,
    [...ns].sort((a, b) => (a.cluster + '\0' + a.namespace < b.cluster + '\0' + b.namespace ? -1 : 1)),
  );
  const nodes = await store.nodes();
  assert.equal(
    nodes.reduce((s, n) => s + n.flows, 0),
    flows.filter((f) => f.node_name).length,
  );
  await store.close();

  // Restart: same directory, same rows, same progress, migrations are a no-op.
  store = await FlowStore.open({ path: dir });
  assert.equal(await store.countFlows(), flows.length);
  assert.equal(await store.durableSeq('s1'), 2);
  const again = byUuid(await collect(store.queryFlows({})));
  for (let i = 0; i < want.length; i++) assert.deepStrictEqual(again[i], want[i]);
  await store.close();
});

test('large and uint64 limits stream in pages: hubble --all (2^64-1), last N and first N beyond one query', async () => {
  const store = await FlowStore.open({ path: dir });
  try {
    await store.insert(genFlows(9000, 8, base).map(canonical), [], 0);
    const key = (f: Flow) => `${f.time!.seconds}.${String(f.time!.nanos ?? 0).padStart(9, '0')}/${f.uuid}`;
    const all = (await collect(store.queryFlows({ pageSize: 1000 }))).map(key);
    assert.ok(all.length >= 12_000, `store holds ${all.length} flows`);
    assert.deepStrictEqual([...all].sort(), all, 'pages come in (time, uuid) order');
    // protobufjs hands 2^64-1 over as the float 18446744073709552000.
    assert.deepStrictEqual((await collect(store.queryFlows({ number: 2 ** 64 - 1, pageSize: 1000 }))).map(key), all);
    assert.deepStrictEqual((await collect(store.queryFlows({ number: 11_000, pageSize: 1000 }))).map(key), all.slice(-11_000));
    assert.deepStrictEqual((await collect(store.queryFlows({ number: 10_500, first: true, pageSize: 1000 }))).map(key), all.slice(0, 10_500));
  } finally {
    await store.close();
  }
});

test('paging by time windows: a burst sharing one timestamp, long gaps and a lone late flow all come back once, in order', async () => {
  const store = await FlowStore.open({ path: dir });
  try {
    const t0 = Math.floor(Date.now() / 1000) - 5 * 3600;
    const at = (f: Flow, seconds: number, nanos: number, uuid: string): Flow => ({ ...f, uuid, time: { seconds, nanos } });
    const src = genFlows(1, 9, t0).map(canonical)[0];
    const burst = Array.from({ length: 300 }, (_, i) => at(src, t0 + 60, 0, `burst-${String(i).padStart(5, '0')}`));
    const sparse = Array.from({ length: 40 }, (_, i) => at(src, t0 + 120 + i * 300, i, `sparse-${i}`));
    const late = [at(src, t0 + 4 * 3600, 7, 'late')];
    const mine = [...sparse, ...burst, ...late];
    await store.insert(mine, [], 0);
    const key = (f: Flow) => `${f.time!.seconds}.${String(f.time!.nanos ?? 0).padStart(9, '0')}/${f.uuid}`;
    const want = mine.map(key).sort();
    const only = { whitelist: [{ uuid: mine.map((f) => f.uuid!) }] } as const;
    for (const pageSize of [7, 100, 299, 300, 1000]) {
      const got = (await collect(store.queryFlows({ ...only, pageSize }))).map(key);
      assert.deepStrictEqual(got, want, `pageSize ${pageSize}`);
    }
    // Beyond one query's limit (paged): more than the matches means all of them.
    assert.deepStrictEqual((await collect(store.queryFlows({ ...only, number: 10_001, pageSize: 100 }))).map(key), want);
  } finally {
    await store.close();
  }
});

test('provenance: liveMarks per collector session; history cut at the marks keeps rows without a session', async () => {
  const store = await FlowStore.open({ path: dir });
  try {
    const legacy = await store.countFlows();
    const fresh = genFlows(150, 23, base).map((f, i) => canonical({ ...f, uuid: `prov-${i}` }));
    // As a collector writes them: its session and each flow's ring cursor per row.
    const w = new FlowBlockWriter();
    const now = Date.now();
    for (let i = 0; i < 100; i++) w.add(fresh[i], undefined, now, 0, 'sess-A', i + 1);
    const a = w.finish();
    w.reset();
    for (let i = 100; i < 150; i++) w.add(fresh[i], undefined, now, 0, 'sess-B', i - 99);
    const b = w.finish();
    await store.insertBlocks([a, b], [], 4242);

    const marks = await store.liveMarks();
    assert.equal(marks.get('sess-A'), 100);
    assert.equal(marks.get('sess-B'), 50);

    const uuids = async (m: Map<string, number>) => (await collect(store.queryFlows({ marks: m }))).map((f) => f.uuid!);
    // sess-A up to 60, sess-B not in the snapshot: none of it.
    const cut = await uuids(new Map([['sess-A', 60]]));
    assert.equal(cut.length, legacy + 60);
    const prov = cut.filter((u) => u.startsWith('prov-')).sort((x, y) => Number(x.slice(5)) - Number(y.slice(5)));
    assert.deepStrictEqual(
      prov,
      Array.from({ length: 60 }, (_, i) => `prov-${i}`),
    );
    assert.equal((await uuids(marks)).length, legacy + 150, 'the full snapshot holds everything');
    // A session id with quotes is a parameter value, never SQL text.
    assert.equal((await uuids(new Map([["x' OR 1=1 --", 5]]))).length, legacy);
  } finally {
    await store.close();
  }
});
