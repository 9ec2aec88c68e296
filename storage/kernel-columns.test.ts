// Flows of the kernel probe: the reason name, bytes and packets of their KernelFlowInfo extension
// land in columns (queryable, summed by the rollup), and the flow still reads back unchanged.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { types, encode, decode, type Flow } from '../proto/index.js';
import { packKernelInfo } from '../proto/kernel.js';
import { FlowStore } from './store.js';
import { openClient } from './client.js';
import { compileFlowFilters } from '../filters/index.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-kcols-'));
after(() => fs.rm(dir, { recursive: true, force: true }));
const canonical = (f: Flow): Flow => decode<Flow>(types.Flow, encode(types.Flow, f));

test('kernel drop reason, bytes and packets are columns and filterable; the flow reads back unchanged', async () => {
  const t = Math.floor(Date.now() / 1000) - 60;
  const base: Flow = {
    time: { seconds: t, nanos: 1 },
    uuid: 'k1',
    node_name: 'n1',
    IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 1 },
    l4: { TCP: { source_port: 40000, destination_port: 80 } },
    source: { namespace: 'shop', pod_name: 'web-1' },
    destination: { namespace: 'shop', pod_name: 'db-0' },
  };
  const flows = [
    canonical({
      ...base,
      verdict: 2,
      drop_reason_desc: 181,
      extensions: packKernelInfo({ event: 'drop', drop_reason_name: 'NETFILTER_DROP', drop_reason_code: 11, bytes: 74, packets: 1 }),
    }),
    canonical({ ...base, uuid: 'k2', verdict: 1, extensions: packKernelInfo({ event: 'tcp_close', bytes: 5000, packets: 12 }) }),
    canonical({ ...base, uuid: 'k3', verdict: 1 }),
  ];
  const store = await FlowStore.open({ path: dir });
  await store.insert(flows, [], 5);
  const back: Flow[] = [];
  for await (const f of store.queryFlows({})) back.push(f);
  assert.deepStrictEqual(
    back.sort((a, b) => (a.uuid! < b.uuid! ? -1 : 1)),
    flows,
  );
  // The kernel's reason is queryable: the same flows by SQL and by the in-memory predicate.
  for (const [names, want] of [
    [['NETFILTER_DROP'], ['k1']],
    [['no_socket'], []],
    [['NETFILTER_DROP', 'NO_SOCKET'], ['k1']],
  ] as const) {
    const got: string[] = [];
    for await (const f of store.queryFlows({ whitelist: [{ kernel_drop_reason: [...names] }] })) got.push(f.uuid!);
    assert.deepStrictEqual(got, want, names.join());
    const pred = compileFlowFilters([{ kernel_drop_reason: [...names] }]);
    assert.deepStrictEqual(
      flows.filter((f) => pred(f)).map((f) => f.uuid),
      want,
    );
  }
  const notDropped: string[] = [];
  for await (const f of store.queryFlows({ blacklist: [{ kernel_drop_reason: ['NETFILTER_DROP'] }] })) notDropped.push(f.uuid!);
  assert.deepStrictEqual(notDropped.sort(), ['k2', 'k3']);
  await store.close();
  const c = openClient({ kind: 'chdb', path: dir });
  try {
    const rs = await c.query({ query: 'SELECT uuid, kernel_drop_reason, bytes, packets FROM flows ORDER BY uuid', format: 'JSONCompactEachRow' });
    assert.deepStrictEqual(
      (await rs.json<unknown[]>()).map((r) => r.map(String)),
      [
        ['k1', 'NETFILTER_DROP', '74', '1'],
        ['k2', '', '5000', '12'],
        ['k3', '', '0', '0'],
      ],
    );
    const r2 = await c.query({ query: 'SELECT sum(flows), sum(bytes), sum(packets) FROM flows_1m', format: 'JSONCompactEachRow' });
    assert.deepStrictEqual((await r2.json<unknown[]>())[0].map(Number), [3, 5074, 13]);
  } finally {
    await c.close();
  }
});
