// The Grafana dashboards: the committed JSON is what dashboards.ts builds; every panel uses the
// datasource variables; every ClickHouse panel's SQL, macros expanded, runs against the real
// schema (a FlowStore on a temp dir holding decoded synthetic flows) and returns rows.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlowStore, openClient } from '../../storage/index.js';
import type { Flow } from '../../proto/types.js';
import { buildCluster, toInventory } from '../../collector/synthetic/cluster.js';
import { StaticInventoryEnricher } from '../../collector/enrich/static.js';
import { MonitorDecoder } from '../../collector/decode/decoder.js';
import { SyntheticSource } from '../../collector/sources/synthetic.js';
import { buildDashboards, renderDashboard } from './dashboards.js';
import { DASHBOARD_DIR } from './write.js';
import { expandClickHouseMacros } from './macros.js';

interface Target {
  refId: string;
  rawSql?: string;
  expr?: string;
  datasource: { type: string; uid: string };
}
interface PanelJson {
  title: string;
  type: string;
  datasource: { type: string; uid: string };
  targets: Target[];
}
interface VarJson {
  name: string;
  type: string;
  datasource?: { type: string };
  query: unknown;
}

const files = fs
  .readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const committed = files.map((f) => ({
  file: f,
  json: JSON.parse(fs.readFileSync(path.join(DASHBOARD_DIR, f), 'utf8')) as {
    panels: PanelJson[];
    templating: { list: VarJson[] };
    __inputs: Array<{ name: string }>;
  },
}));

test('committed dashboards are exactly what dashboards.ts builds (run `npm run dashboards`)', () => {
  const built = buildDashboards();
  assert.deepEqual(files, built.map((d) => d.file).sort());
  for (const d of built) assert.equal(fs.readFileSync(path.join(DASHBOARD_DIR, d.file), 'utf8'), renderDashboard(d), d.file);
});

test('every panel queries through a datasource template variable declared as an import input', () => {
  for (const { file, json } of committed) {
    const inputs = new Set(json.__inputs.map((i) => i.name));
    const vars = new Set(json.templating.list.map((v) => v.name));
    assert.ok(json.panels.length > 0, file);
    for (const p of json.panels) {
      assert.ok(['${DS_PROMETHEUS}', '${DS_CLICKHOUSE}'].includes(p.datasource.uid), `${file}: ${p.title}`);
      const name = p.datasource.uid.slice(2, -1);
      assert.ok(inputs.has(name) && vars.has(name), `${file}: ${p.title} uses ${name}`);
      assert.ok(p.targets.length > 0, `${file}: ${p.title} has queries`);
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, p.datasource);
        if (p.datasource.type === 'prometheus') assert.ok(t.expr && t.expr.length > 0);
        else assert.ok(t.rawSql && t.rawSql.length > 0);
      }
    }
  }
});

function syntheticFlows(perNode: number): Flow[] {
  const model = buildCluster({ seed: 9 });
  const out: Flow[] = [];
  const start = (Date.now() - 20 * 60_000) * 1e6;
  for (const node of model.nodes.slice(0, 3)) {
    const src = new SyntheticSource({ seed: 9, model, nodeName: node.name, policyDenySurge: 3 });
    const enr = new StaticInventoryEnricher(toInventory(model), { nodeName: node.name });
    const dec = new MonitorDecoder({ nodeName: node.name, clusterName: model.cluster, localEndpointId: enr.localEndpointId, l7Dns: true });
    // Spread over 20 minutes so per-minute panels have several points.
    const recs = src.take(perNode, start);
    recs.forEach((r, i) => {
      r.timeNs = start + Math.floor((i / perNode) * 20 * 60e9);
    });
    for (const r of recs) {
      const f = dec.decode(r);
      if (!f) continue;
      // DNS messages come as extra L7 flows beside the packet's flow.
      for (const x of [f, ...(dec.l7Flows ?? [])]) {
        enr.enrich(x);
        out.push(x);
      }
    }
  }
  return out;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-dash-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('every ClickHouse panel and variable query runs against the real schema and returns rows', async () => {
  const store = await FlowStore.open({ path: dir });
  await store.insert(syntheticFlows(6000), [], 1);
  await store.close();
  const client = openClient({ kind: 'chdb', path: dir });
  const run = async (q: string): Promise<unknown[]> => (await (await client.query({ query: q, format: 'JSONEachRow' })).json()) as unknown[];
  try {
    const now = Date.now();
    const ctx = { fromMs: now - 3600_000, toMs: now + 60_000, intervalMs: 60_000, variables: {} as Record<string, string[]> };
    let checked = 0;
    for (const { file, json } of committed) {
      for (const v of json.templating.list.filter((x) => x.type === 'query' && x.datasource?.type === 'grafana-clickhouse-datasource')) {
        const rows = await run(expandClickHouseMacros(String(v.query), ctx));
        assert.ok(rows.length > 0, `${file}: variable ${v.name} has values`);
        ctx.variables[v.name] = rows.map((r) => String(Object.values(r as object)[0]));
        checked++;
      }
      for (const p of json.panels.filter((x) => x.datasource.type === 'grafana-clickhouse-datasource')) {
        for (const t of p.targets) {
          const q = expandClickHouseMacros(t.rawSql!, ctx);
          let rows: unknown[];
          try {
            rows = await run(q);
          } catch (err) {
            throw new Error(`${file}: "${p.title}" ${t.refId} failed: ${(err as Error).message}\n${q}`);
          }
          assert.ok(rows.length > 0, `${file}: "${p.title}" ${t.refId} returned no rows\n${q}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 15, `checked ${checked} ClickHouse queries`);
  } finally {
    await client.close();
  }
});
