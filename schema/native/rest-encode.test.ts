import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, decode, type Flow } from '../../proto/index.js';
import type { FileInfo, Tunnel } from '../../proto/types.js';
import { rng } from '../../testing/gen-flows.js';
import { SyntheticSource } from '../../collector/sources/synthetic.js';
import { buildCluster, toInventory } from '../../collector/synthetic/cluster.js';
import { StaticInventoryEnricher } from '../../collector/enrich/static.js';
import { MonitorDecoder } from '../../collector/decode/decoder.js';
import { encodeFileTunnel, encodeRest } from './rest-encode.js';

const protobufjs = (o: { file?: unknown; tunnel?: unknown }) => Buffer.from(types.Flow.encode(o).finish());

function decodedFlows(n: number): Flow[] {
  const model = buildCluster({ seed: 5, nodes: 3 });
  const inventory = toInventory(model);
  const node = model.nodes[0];
  const src = new SyntheticSource({ rate: 1e6, seed: 5, model, nodeName: node.name, weights: { drop: 3 } });
  const enricher = new StaticInventoryEnricher(inventory, { nodeName: node.name });
  const decoder = new MonitorDecoder({ nodeName: node.name, clusterName: inventory.cluster, localEndpointId: enricher.localEndpointId });
  const out: Flow[] = [];
  for (const r of src.take(n, Date.now() * 1e6)) {
    const f = decoder.decode(r);
    if (f !== null) {
      enricher.enrich(f);
      out.push(f);
    }
  }
  return out;
}

test("a decoder's tunnels and file locations encode as protobufjs encodes them", () => {
  const flows = decodedFlows(20_000);
  let tunnels = 0,
    files = 0;
  for (const f of flows) {
    if (f.tunnel === undefined && f.file === undefined) continue;
    if (f.tunnel !== undefined) tunnels++;
    if (f.file !== undefined) files++;
    const ours = encodeFileTunnel(f.file, f.tunnel);
    assert.ok(ours !== null, 'a decoder flow takes the fast path');
    assert.deepEqual(Buffer.from(ours), protobufjs({ file: f.file, tunnel: f.tunnel }));
  }
  assert.ok(tunnels > 100 && files > 100, `the synthetic traffic has overlays (${tunnels}) and drops (${files})`);
});

test('random tunnels and files, zero and absent values included, encode as protobufjs encodes them', () => {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const maybe = <T>(v: T): T | undefined => (r() < 0.3 ? undefined : v);
  const num = () => pick([0, 1, 127, 128, 16383, 16384, 65535, 2 ** 21, 2 ** 28, 2 ** 32 - 1, Math.floor(r() * 2 ** 32)]);
  const addr = () => pick(['', '10.0.0.1', '192.168.255.254', 'fd00::1', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'x'.repeat(200)]);
  for (let i = 0; i < 5000; i++) {
    const tunnel: Tunnel | undefined =
      r() < 0.2
        ? undefined
        : {
            protocol: maybe(pick([0, 1, 2])),
            IP: maybe({
              source: maybe(addr()),
              destination: maybe(addr()),
              ipVersion: maybe(pick([0, 1, 2])),
              encrypted: maybe(r() < 0.5),
              source_xlated: maybe(addr()),
            }),
            l4: maybe(r() < 0.2 ? {} : { UDP: maybe({ source_port: maybe(num()), destination_port: maybe(num()) }) }),
            vni: maybe(num()),
          };
    const file: FileInfo | undefined = r() < 0.4 ? undefined : { name: maybe(pick(['', 'bpf_lxc.c', 'bpf_host.c', 'y'.repeat(300)])), line: maybe(num()) };
    // Undefined fields are left out, as a decoder leaves them.
    const clean = <T extends object>(o: T | undefined): T | undefined => (o === undefined ? undefined : (JSON.parse(JSON.stringify(o)) as T));
    const t = clean(tunnel),
      fi = clean(file);
    const ours = encodeFileTunnel(fi, t);
    assert.ok(ours !== null, JSON.stringify({ t, fi }));
    const want = protobufjs({ file: fi, tunnel: t });
    assert.deepEqual(Buffer.from(ours), want, JSON.stringify({ t, fi }));
    const back = decode<Flow>(types.Flow, ours);
    assert.deepEqual(back.tunnel?.vni ?? 0, t?.vni ?? 0);
  }
});

test('what the fast path does not take goes to protobufjs, with the same bytes', () => {
  const base: Tunnel = {
    protocol: 1,
    IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 1 },
    l4: { UDP: { source_port: 4789, destination_port: 4789 } },
    vni: 7,
  };
  const odd: Array<[string, FileInfo | undefined, unknown]> = [
    ['a TCP outer header', undefined, { ...base, l4: { TCP: { source_port: 1, destination_port: 2 } } }],
    ['a non-ASCII address', undefined, { ...base, IP: { source: 'é' } }],
    ['a negative enum', undefined, { ...base, protocol: -1 }],
    ['a port beyond uint32', undefined, { ...base, l4: { UDP: { source_port: 2 ** 32 } } }],
    ['a fractional vni', undefined, { ...base, vni: 1.5 }],
    ['an unknown tunnel field', undefined, { ...base, extra: 1 }],
    ['an unknown file field', { name: 'a.c', line: 1, column: 3 } as FileInfo, undefined],
    ['a class instance', undefined, Object.assign(Object.create({ inherited: true }) as object, base)],
  ];
  for (const [what, file, tunnel] of odd) {
    assert.equal(encodeFileTunnel(file, tunnel as Tunnel), null, what);
    const f = { ...(file ? { file } : {}), ...(tunnel ? { tunnel } : {}) } as Record<string, unknown>;
    const keys = Object.keys(f);
    assert.deepEqual(Buffer.from(encodeRest(f, keys, keys.length)), protobufjs(f), what);
  }
  // Other rest fields (here a trace context) go to protobufjs whole, beside the tunnel.
  const f = { tunnel: base, trace_context: { parent: { trace_id: 'abc' } } } as Record<string, unknown>;
  assert.deepEqual(Buffer.from(encodeRest(f, ['tunnel', 'trace_context'], 2)), protobufjs(f));
  // Only the first `count` keys, and only own fields, are encoded.
  assert.deepEqual(Buffer.from(encodeRest({ tunnel: base, file: { name: 'x' } }, ['tunnel', 'file'], 1)), protobufjs({ tunnel: base }));
  assert.deepEqual(Buffer.from(encodeRest({ tunnel: base }, ['tunnel', 'file'], 2)), protobufjs({ tunnel: base }));
});
