// Service map, top talkers and top drop reasons from the rollup, checked against the same
// aggregation computed in JS over the flows that were stored.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Endpoint, Flow } from '../proto/types.js';
import { DEFAULT_SERVICE_MAP_LIMIT } from './rollup-query.js';
import { FlowStore } from './store.js';
import { realisticFlows } from '../testing/realistic-flows.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-rollupq-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

function workload(e: Endpoint | undefined): string {
  const w = e?.workloads?.[0]?.name;
  if (w) return w;
  return e?.labels?.find((l) => l.startsWith('reserved:')) ?? e?.pod_name ?? '';
}
function protocol(f: Flow): string {
  const l4 = f.l4 ?? {};
  return l4.TCP ? 'TCP' : l4.UDP ? 'UDP' : l4.ICMPv4 ? 'ICMPv4' : l4.ICMPv6 ? 'ICMPv6' : l4.SCTP ? 'SCTP' : '';
}
function port(f: Flow): number {
  return f.l4?.TCP?.destination_port ?? f.l4?.UDP?.destination_port ?? f.l4?.SCTP?.destination_port ?? 0;
}

test('rollup queries match an aggregation of the stored flows', async () => {
  const flows = realisticFlows(6000, { nodes: 3, seed: 9, spanMs: 20 * 60_000 });
  const store = await FlowStore.open({ path: dir });
  await store.insert(flows, [], 1);
  const range = { sinceMs: Date.now() - 3_600_000, untilMs: Date.now() + 60_000 };

  const edges = new Map<string, { flows: number; dropped: number }>();
  const talkers = new Map<string, { flows: number; peers: Set<string> }>();
  const drops = new Map<string, number>();
  for (const f of flows) {
    const s = `${f.source?.namespace ?? ''}|${workload(f.source)}`,
      d = `${f.destination?.namespace ?? ''}|${workload(f.destination)}`;
    const k = `${s}|${d}|${protocol(f)}|${port(f)}`;
    const e = edges.get(k) ?? { flows: 0, dropped: 0 };
    e.flows++;
    if (f.verdict === 2) e.dropped++;
    edges.set(k, e);
    const t = talkers.get(s) ?? { flows: 0, peers: new Set() };
    t.flows++;
    t.peers.add(d);
    talkers.set(s, t);
    if (f.verdict === 2) {
      const dk = `${f.drop_reason_desc ?? 0}|${f.source?.namespace ?? ''}|${f.destination?.namespace ?? ''}`;
      drops.set(dk, (drops.get(dk) ?? 0) + 1);
    }
  }

  const map = await store.serviceMap({ ...range, limit: 100_000 });
  assert.equal(map.length, edges.size);
  for (const e of map) {
    const want = edges.get(`${e.srcNamespace}|${e.srcWorkload}|${e.dstNamespace}|${e.dstWorkload}|${e.protocol}|${e.dstPort}`);
    assert.deepStrictEqual({ flows: e.flows, dropped: e.dropped }, want, JSON.stringify(e));
  }
  for (let i = 1; i < map.length; i++) assert.ok(map[i - 1].flows >= map[i].flows, 'busiest first');
  // Without a limit: a readable screenful, the busiest edges.
  assert.ok(edges.size > DEFAULT_SERVICE_MAP_LIMIT, `the test needs more than ${DEFAULT_SERVICE_MAP_LIMIT} edges (has ${edges.size})`);
  assert.deepStrictEqual(await store.serviceMap(range), map.slice(0, DEFAULT_SERVICE_MAP_LIMIT));

  const top = await store.topTalkers({ ...range, limit: 5 });
  const wantTop = [...talkers].sort((a, b) => b[1].flows - a[1].flows).slice(0, 5);
  assert.deepStrictEqual(
    top.map((t) => t.flows),
    wantTop.map(([, t]) => t.flows),
  );
  for (const t of top) assert.equal(t.peers, talkers.get(`${t.namespace}|${t.workload}`)!.peers.size);

  const reasons = await store.topDropReasons({ ...range, limit: 1000 });
  assert.ok(reasons.length > 0);
  assert.deepStrictEqual(new Map(reasons.map((r) => [`${r.dropReason}|${r.srcNamespace}|${r.dstNamespace}`, r.flows])), drops);

  // Namespace scoping and an empty range.
  const ns = map[0].srcNamespace;
  const scoped = await store.serviceMap({ ...range, namespace: ns, limit: 100_000 });
  assert.ok(scoped.length > 0 && scoped.every((e) => e.srcNamespace === ns || e.dstNamespace === ns));
  assert.deepStrictEqual(await store.serviceMap({ sinceMs: Date.now() - 7200_000, untilMs: Date.now() - 3700_000 }), []);

  // Cluster scoping: by the node name the rollup keeps ("cluster/node"; "default" is unprefixed).
  const plain = flows.slice(0, 500).map((f, i) => ({ ...f, uuid: `plain-${i}`, node_name: f.node_name!.split('/')[1] }));
  await store.insert(plain, [], 2);
  const total = async (cluster: string) => (await store.serviceMap({ ...range, cluster, limit: 100_000 })).reduce((n, e) => n + e.flows, 0);
  assert.equal(await total('flowscope-demo'), flows.length);
  assert.equal(await total('default'), plain.length);
  assert.equal(await total('west'), 0);
  assert.equal(
    (await store.topTalkers({ ...range, cluster: 'default', limit: 100_000 })).reduce((n, t) => n + t.flows, 0),
    plain.length,
  );
  await store.close();
});
