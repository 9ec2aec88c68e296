// Service map and top lists end to end: a relay and a synthetic collector as processes, then
// `flowscope service-map` / `top talkers` / `top drops` and the HTTP API, checked against an
// aggregation of every stored flow read back with `flowscope observe`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { freePort, startProc, startTestRelay, run, waitFor, type Proc } from '../../testing/harness.js';
import { ObserverApiClient } from '../client.js';
import { buildApi } from '../http/server.js';
import type { Endpoint, Flow } from '../../proto/types.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowscope-insights-'));
let server = '';
let relay: Proc;
let flows: Flow[] = [];

function workload(e: Endpoint | undefined): string {
  const w = e?.workloads?.[0]?.name;
  if (w) return w;
  return e?.labels?.find((l) => l.startsWith('reserved:')) ?? e?.pod_name ?? '';
}

async function cli(...args: string[]): Promise<string> {
  const r = await run([...args, '--server', server]);
  assert.equal(r.code, 0, `${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  ({ server, relay } = await startTestRelay(path.join(dir, 'chdb')));
  const collector = startProc(['collector', '--rate', '400', '--relay', server, '--listen', `127.0.0.1:${await freePort()}`]);
  await waitFor(
    '1,500 flows stored',
    async () => {
      const r = await run(['observe', '--server', server, '--last', '1500', '-o', 'jsonpb']);
      return r.stdout.split('\n').filter(Boolean).length >= 1500 ? true : undefined;
    },
    60_000,
  );
  await collector.stop();
  // The relay may still be storing what it accepted: read everything back once the count holds.
  const readAll = async () =>
    (await cli('observe', '--all', '-o', 'jsonpb'))
      .split('\n')
      .filter((l) => l.startsWith('{"flow"'))
      .map((l) => JSON.parse(l).flow as Flow);
  let prev = -1;
  await waitFor(
    'stored flows to settle',
    async () => {
      flows = await readAll();
      const settled = flows.length === prev;
      prev = flows.length;
      if (!settled) await new Promise((r) => setTimeout(r, 1000));
      return settled ? true : undefined;
    },
    60_000,
  );
});

after(async () => {
  await relay?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('service-map edges add up to the stored flows, edge by edge', async () => {
  const want = new Map<string, { flows: number; dropped: number }>();
  for (const f of flows) {
    const k = `${f.source?.namespace ?? ''}/${workload(f.source)}>${f.destination?.namespace ?? ''}/${workload(f.destination)}`;
    const e = want.get(k) ?? { flows: 0, dropped: 0 };
    e.flows++;
    if ((f.verdict as unknown) === 'DROPPED') e.dropped++;
    want.set(k, e);
  }
  const res = JSON.parse(await cli('service-map', '--limit', '100000', '-o', 'json'));
  const got = new Map<string, { flows: number; dropped: number }>();
  for (const e of res.edges) {
    const k = `${e.source_namespace ?? ''}/${e.source_workload ?? ''}>${e.destination_namespace ?? ''}/${e.destination_workload ?? ''}`;
    const g = got.get(k) ?? { flows: 0, dropped: 0 };
    g.flows += Number(e.flows ?? 0);
    g.dropped += Number(e.dropped ?? 0);
    got.set(k, g);
  }
  assert.ok(flows.length >= 1500);
  assert.deepStrictEqual(got, want);
  const table = await cli('service-map', '--since', '2h', '--limit', '5');
  assert.match(table.split('\n')[0], /^SOURCE\s+DESTINATION\s+PROTOCOL\s+PORT\s+FLOWS\s+DROPPED\s+BYTES$/);
  assert.equal(table.trim().split('\n').length, 6);
});

test('top talkers and top drops rank what the flows say', async () => {
  const bySource = new Map<string, number>();
  for (const f of flows) {
    const k = `${f.source?.namespace ?? ''}/${workload(f.source)}`;
    bySource.set(k, (bySource.get(k) ?? 0) + 1);
  }
  const talkers = JSON.parse(await cli('top', 'talkers', '--limit', '3', '-o', 'json')).talkers;
  assert.deepStrictEqual(
    talkers.map((t: { flows: string }) => Number(t.flows)),
    [...bySource.values()].sort((a, b) => b - a).slice(0, 3),
  );
  const drops = JSON.parse(await cli('top', 'drops', '--limit', '1000', '-o', 'json')).reasons ?? [];
  const dropped = flows.filter((f) => (f.verdict as unknown) === 'DROPPED');
  assert.ok(dropped.length > 0, 'the synthetic mix has drops');
  assert.equal(
    drops.reduce((s: number, d: { flows: string }) => s + Number(d.flows), 0),
    dropped.length,
  );
  for (const d of drops) assert.equal(typeof d.drop_reason, 'string', 'drop reasons print by name');
  // Namespace scoping.
  const ns = flows[0].source?.namespace ?? flows[0].destination?.namespace;
  const scoped = JSON.parse(await cli('top', 'talkers', '--namespace', ns!, '--limit', '100', '-o', 'json')).talkers;
  assert.ok(scoped.length > 0);
});

test('bad input: CLI exit 2, gRPC INVALID_ARGUMENT, HTTP 400; the HTTP API returns what the CLI prints', async () => {
  for (const args of [
    ['top', 'talkers', '--since', 'yesterday-ish'],
    ['top', 'drops', '--limit', '0'],
    ['service-map', '-o', 'yaml'],
    ['service-map', '--since', '1h', '--until', '2h'],
    ['top', 'talkers', '--namespace', ''],
  ]) {
    const r = await run([...args, '--server', server]);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, /--help/);
  }
  const client = new ObserverApiClient(server, 5000);
  try {
    await assert.rejects(client.serviceMap({}), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /since/.test(e.details));
    await assert.rejects(
      client.topTalkers({ since: { seconds: 2e9, nanos: 0 }, until: { seconds: 1e9, nanos: 0 } }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT,
    );
    await assert.rejects(
      client.topDropReasons({ since: { seconds: 1e9, nanos: 0 }, limit: 10_000_000 }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT,
    );
  } finally {
    client.close();
  }

  const app = buildApi({ server });
  try {
    for (const url of ['/api/v1/top/talkers?since=nope', '/api/v1/service-map?limit=-3', '/api/v1/top/drops?bogus=1']) {
      const r = await app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 400, url);
      assert.ok(JSON.parse(r.body).message);
    }
    const r = await app.inject({ method: 'GET', url: '/api/v1/top/drops?since=3h&limit=50' });
    assert.equal(r.statusCode, 200);
    assert.deepStrictEqual(r.json(), JSON.parse(await cli('top', 'drops', '--since', '3h', '--limit', '50', '-o', 'json')));
  } finally {
    await app.close();
  }
});
