// Two clusters on one relay: synthetic collectors with --cluster-name east and west ship to one
// relay and one chDB. Every stored flow carries its cluster (endpoints' cluster_name, node names
// "cluster/node" as --print-node-name shows them); --cluster selects one cluster in observe, the
// service map, the top lists and the HTTP API, and agrees with the full set filtered here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestCollector, startTestRelay, run, waitFor, type Proc } from '../../testing/harness.js';
import { buildApi } from '../http/server.js';
import type { Flow } from '../../proto/types.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-multicluster-'));
const CLUSTERS = ['east', 'west'] as const;
const RECORDS = 1200;
let server = '';
let relay: Proc;
const collectors: Proc[] = [];
let flows: Flow[] = [];

function parse(out: string): Flow[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{"flow"'))
    .map((l) => JSON.parse(l).flow as Flow);
}

async function cli(...args: string[]): Promise<string> {
  const r = await run([...args, '--server', server], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function metric(port: number, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  return m ? Number(m[1]) : -1;
}

/** Hubble's --cluster: a flow whose source or destination endpoint is in the cluster. */
const inCluster = (f: Flow, c: string): boolean => f.source?.cluster_name === c || f.destination?.cluster_name === c;
/** Observed by the cluster's collectors (what the rollup keeps: the node name). */
const observedIn = (f: Flow, c: string): boolean => (f.node_name ?? '').startsWith(`${c}/`);

before(async () => {
  ({ server, relay } = await startTestRelay(path.join(dir, 'chdb')));
  const ports: number[] = [];
  for (const [i, cluster] of CLUSTERS.entries()) {
    const c = await startTestCollector(server, ['--cluster-name', cluster, '--seed', String(i + 1), '--rate', '1500', '--count', String(RECORDS)]);
    ports.push(c.metricsPort);
    collectors.push(c.proc);
  }
  // Both bounded runs decoded and acknowledged as durable.
  await waitFor(
    'both collectors to ship every flow',
    async () => {
      for (const p of ports) {
        const decoded = await metric(p, 'flowscope_collector_flows_total');
        if (decoded < RECORDS * 0.9 || (await metric(p, 'flowscope_collector_ship_flows_acked_total')) !== decoded) return undefined;
      }
      return true;
    },
    120_000,
  );
  flows = parse(await cli('observe', '--all', '-o', 'jsonpb'));
});

after(async () => {
  for (const c of collectors) await c.stop();
  await relay?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('every stored flow carries its cluster: node name cluster/node and the endpoints of its cluster', () => {
  assert.ok(flows.length >= RECORDS, `${flows.length} flows stored`);
  for (const c of CLUSTERS)
    assert.ok(
      flows.some((f) => observedIn(f, c)),
      `flows observed in ${c}`,
    );
  for (const f of flows) {
    const c = CLUSTERS.find((x) => observedIn(f, x));
    assert.ok(c, `node name ${f.node_name} is cluster/node`);
    // Local endpoints are in the observing cluster; the world and remote nodes carry none.
    for (const ep of [f.source, f.destination]) if (ep?.cluster_name) assert.equal(ep.cluster_name, c, `${f.node_name}: endpoint in ${ep.cluster_name}`);
  }
});

test('observe --cluster keeps exactly the flows with an endpoint in the cluster; --print-node-name shows cluster/node', async () => {
  for (const c of CLUSTERS) {
    const got = parse(await cli('observe', '--cluster', c, '--all', '-o', 'jsonpb'));
    const want = flows.filter((f) => inCluster(f, c));
    assert.ok(want.length > 0);
    assert.deepEqual(got.map((f) => f.uuid).sort(), want.map((f) => f.uuid).sort(), `--cluster ${c}`);
    const from = parse(await cli('observe', '--from-cluster', c, '--all', '-o', 'jsonpb'));
    assert.deepEqual(
      from.map((f) => f.uuid).sort(),
      flows
        .filter((f) => f.source?.cluster_name === c)
        .map((f) => f.uuid)
        .sort(),
      `--from-cluster ${c}`,
    );
    const lines = (await cli('observe', '--cluster', c, '--last', '20', '--print-node-name')).trim().split('\n');
    assert.equal(lines.length, 20);
    for (const l of lines) assert.match(l, new RegExp(` \\[${c}/${c}-[a-z0-9-]+\\]: `), l);
  }
  const bad = await run(['observe', '--server', server, '--cluster', '', '--last', '1']);
  assert.equal(bad.code, 2, bad.stderr);
});

test('service-map and top talkers --cluster add up to the flows observed in that cluster', async () => {
  for (const c of CLUSTERS) {
    const want = flows.filter((f) => observedIn(f, c)).length;
    const edges = JSON.parse(await cli('service-map', '--cluster', c, '--limit', '100000', '-o', 'json')).edges as { flows: string | number }[];
    assert.equal(
      edges.reduce((s, e) => s + Number(e.flows), 0),
      want,
      `service map of ${c}`,
    );
    const talkers = JSON.parse(await cli('top', 'talkers', '--cluster', c, '--limit', '100000', '-o', 'json')).talkers as { flows: string | number }[];
    assert.equal(
      talkers.reduce((s, t) => s + Number(t.flows), 0),
      want,
      `top talkers of ${c}`,
    );
  }
  const none = JSON.parse(await cli('service-map', '--cluster', 'north', '-o', 'json'));
  assert.deepEqual(none.edges ?? [], []);
  const bad = await run(['service-map', '--server', server, '--cluster', 'Not_A_Cluster']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--cluster/);
});

test('HTTP API: cluster selects flows and rollups alike; a bad cluster is a 400 naming it', async () => {
  const app = buildApi({ server });
  try {
    const r = await app.inject({ method: 'GET', url: '/api/v1/flows?cluster=west&all=true' });
    assert.equal(r.statusCode, 200, r.body);
    const got = (JSON.parse(r.body).flows as Flow[]).map((f) => f.uuid).sort();
    assert.deepEqual(
      got,
      flows
        .filter((f) => inCluster(f, 'west'))
        .map((f) => f.uuid)
        .sort(),
    );
    const map = await app.inject({ method: 'GET', url: '/api/v1/service-map?cluster=east&limit=100000' });
    assert.equal(map.statusCode, 200, map.body);
    assert.equal(
      (JSON.parse(map.body).edges as { flows: string | number }[]).reduce((s, e) => s + Number(e.flows), 0),
      flows.filter((f) => observedIn(f, 'east')).length,
    );
    for (const url of ['/api/v1/service-map?cluster=Bad_Name', '/api/v1/top/drops?cluster=']) {
      const b = await app.inject({ method: 'GET', url });
      assert.equal(b.statusCode, 400, url);
      assert.match(JSON.parse(b.body).message, /cluster/);
    }
  } finally {
    await app.close();
  }
});
