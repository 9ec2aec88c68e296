import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, encode, decode, type Flow } from '../../proto/index.js';
import { TCP_FLAG_BITS } from '../../proto/tcp-flags.js';
import { packKernelInfo } from '../../proto/kernel.js';
import { genFlows } from '../../testing/gen-flows.js';
import { realisticFlows } from '../../testing/realistic-flows.js';
import {
  FlowBlockWriter,
  encodeFlowBlock,
  blockToFlows,
  blockRows,
  blockFirstTimeMs,
  blockProvenance,
  withEmptyProvenance,
  LEGACY_FLOW_NATIVE_COLUMNS,
} from './flow-block.js';
import { readNativeBlock } from './read.js';
import { validateNativeBlock, NativeBlockError } from './validate.js';
import { FLOW_COLUMNS } from '../flow-columns.js';
import { writeFlowRow, usePlainPath, type IngestMark } from '../flow-row.js';
import { flowShape, Shape } from '../plain-flow.js';
import type { RowSink } from '../rowbinary.js';
import { FLOW_NATIVE_COLUMNS, Kind, kindOf, type NativeColumn } from './types.js';
import { NativeBlockWriter } from './writer.js';

const canonical = (f: Flow): Flow => decode<Flow>(types.Flow, encode(types.Flow, f));

test('the block columns are the flows table columns, in order', () => {
  assert.deepEqual(
    FLOW_NATIVE_COLUMNS.map((c) => c.name),
    FLOW_COLUMNS.map((c) => c.name),
  );
});

test('a block of flows reads back as the same flows (every odd shape of the generator included)', () => {
  const flows = genFlows(3000, 7, 1_700_000_000).map(canonical);
  const block = encodeFlowBlock(new FlowBlockWriter(), flows);
  assert.equal(blockRows(block), flows.length);
  const back = blockToFlows(block);
  assert.equal(back.length, flows.length);
  for (let i = 0; i < flows.length; i++) assert.deepStrictEqual(back[i], flows[i], `flow ${i}`);
});

test("blockFirstTimeMs reads the first row's time", () => {
  const flows: Flow[] = [
    { time: { seconds: 1_700_000_123, nanos: 456_000_000 }, uuid: 'a' },
    { time: { seconds: 1_700_000_200, nanos: 0 }, uuid: 'b' },
  ];
  assert.equal(blockFirstTimeMs(encodeFlowBlock(new FlowBlockWriter(), flows)), 1_700_000_123_456);
});

test('a flow whose 64-bit value is beyond 2^53 still writes its row (the exact value stays in rest)', () => {
  const flow: Flow = canonical({ uuid: 'big', l7: { latency_ns: 2 ** 60 } } as Flow);
  const w = new FlowBlockWriter();
  w.add(flow);
  assert.equal(w.rows, 1);
  assert.deepStrictEqual(blockToFlows(w.finish())[0], flow);
});

// The straightforward reference: every flow through writeFlowRow's general path (copy the flow,
// move fields into columns, encode the remainder), each value appended to its column at once.
class ReferenceSink implements RowSink {
  col = 0;
  constructor(private readonly w: NativeBlockWriter) {}
  u8(v: number): void {
    this.w.u8(this.col++, v);
  }
  u16(v: number): void {
    this.w.u16(this.col++, v);
  }
  u32(v: number): void {
    this.w.u32(this.col++, v);
  }
  i32(v: number): void {
    this.w.i32(this.col++, v);
  }
  u64(v: number): void {
    this.w.u64(this.col++, v >= 0 && v <= Number.MAX_SAFE_INTEGER ? v : v > 0 ? Number.MAX_SAFE_INTEGER : 0);
  }
  timeNs(seconds: number, nanos: number): void {
    this.w.dateTime64ns(this.col++, seconds, nanos);
  }
  str(s: string): void {
    this.w.str(this.col++, s);
  }
  bytesField(b: Uint8Array): void {
    this.w.bytes(this.col++, b);
  }
  strArray(a: readonly string[]): void {
    this.w.strArray(this.col++, a);
  }
  u64Array(a: readonly number[]): void {
    this.w.u64Array(this.col++, a);
  }
  ipv6(ip: Uint8Array): void {
    this.w.ipv6(this.col++, ip);
  }
}

const NOW = 1_700_000_000_123;

function referenceBlock(flows: readonly Flow[], marks: readonly IngestMark[], batchId: number, columns: readonly NativeColumn[]): Buffer {
  const w = new NativeBlockWriter(columns);
  const sink = new ReferenceSink(w);
  usePlainPath(false);
  try {
    flows.forEach((f, i) => {
      sink.col = 0;
      writeFlowRow(sink, f, i === flows.length - 1 ? marks : [], NOW, batchId);
      w.endRow();
    });
  } finally {
    usePlainPath(true);
  }
  return w.finish();
}

const LC_AS_STRING = FLOW_NATIVE_COLUMNS.map((c) => ({ name: c.name, type: c.type.replace(/LowCardinality\(String\)/g, 'String') }));

/** Flows at the corners of the direct path: every TCP flag set, multi-byte and long strings,
 * 64-bit values beyond 2^53, fields the columns only copy (kernel info, trace ids) next to a tunnel. */
function cornerFlows(): Flow[] {
  const base: Flow = { time: { seconds: 1_700_000_000, nanos: 5 }, uuid: 'c', verdict: 1, node_name: 'nöde/ü', emitter: { name: 'e', version: '1' } };
  const flags = Array.from({ length: 1 << TCP_FLAG_BITS.length }, (_, m): Flow => ({
    ...base,
    uuid: `f${m}`,
    l4: { TCP: { source_port: 1, destination_port: 2, flags: Object.fromEntries(TCP_FLAG_BITS.filter((_, i) => m & (1 << i)).map((k) => [k, true])) } },
  }));
  const ep = {
    ID: 7,
    identity: 9,
    cluster_name: 'c✓',
    namespace: 'ns-' + 'x'.repeat(130),
    pod_name: '𝄞-pod',
    labels: ['k8s:a=ü', 'k8s:b=' + 'y'.repeat(200), 'k8s:c'],
    workloads: [
      { name: 'w', kind: 'Deployment' },
      { name: 'w2', kind: 'Job' },
    ],
  };
  return [
    ...flags,
    { ...base, source: ep, destination: { ...ep, labels: ['k8s:c', 'k8s:a=ü'] }, Summary: 'ü'.repeat(70), source_names: ['a.example', 'ü.example'] },
    {
      ...base,
      l7: {
        type: 1,
        latency_ns: 2 ** 60,
        dns: {
          query: 'q.example.',
          ips: ['10.0.0.1', '2001:db8::1'],
          ttl: 30,
          cnames: ['c.example.'],
          observation_source: 'proxy',
          rcode: 3,
          qtypes: ['A', 'AAAA'],
          rrtypes: ['A'],
        },
      },
    },
    {
      ...base,
      IP: { source: '2001:db8::1', destination: '2001:DB8::2', source_xlated: '::ffff:10.0.0.1', ipVersion: 2, encrypted: true },
      l4: { ICMPv6: { type: 128, code: 1 } },
    },
    // ICMP as protobuf decodes it: a zero type or code is absent.
    { ...base, l4: { ICMPv4: {} } },
    { ...base, l4: { ICMPv4: { type: 8 } } },
    { ...base, l4: { ICMPv6: { code: 4 } } },
    {
      ...base,
      IP: { source: 'garbage', destination: '010.0.0.1' },
      l4: { UDP: { source_port: 53, destination_port: 5353 } },
      is_reply: { value: false },
      reply: true,
    },
    {
      ...base,
      tunnel: { protocol: 1, vni: 5 },
      extensions: packKernelInfo({ drop_reason_name: 'NO_SOCKET', bytes: 2 ** 55, packets: 3 }),
      trace_context: { parent: { trace_id: 't-✓' } },
      ip_trace_id: { trace_id: 2 ** 54 },
    },
    { ...base, file: { name: 'bpf_lxc.c', line: 10 }, socket_cookie: 42, ip_trace_id: { trace_id: 7 } },
    { uuid: 'no time, so the ingest time' },
    {},
  ];
}

test('the direct path writes exactly the bytes of the general path, for every shape of flow', () => {
  const sets: Record<string, Flow[]> = {
    odd: genFlows(2000, 21),
    canonical: genFlows(2000, 22).map(canonical),
    realistic: realisticFlows(3000, { nodes: 3, seed: 4 }),
    corners: cornerFlows().map(canonical),
  };
  const marks: IngestMark[] = [
    { session: 's-1', node: 'n', seq: 3 },
    { session: 's-ü', node: 'n2', seq: 2 ** 40 },
  ];
  for (const [name, flows] of Object.entries(sets)) {
    const shapes = [0, 0, 0];
    for (const f of flows) shapes[flowShape(f)]++;
    for (const columns of [FLOW_NATIVE_COLUMNS, LC_AS_STRING]) {
      const w = new FlowBlockWriter(columns);
      // Blocks of several sizes: around the stage's rows (256), and one spanning many moves.
      for (const size of name === 'corners' ? [1, flows.length] : [255, 257, flows.length]) {
        for (let i = 0; i < flows.length; i += size) {
          const g = flows.slice(i, i + size);
          const got = encodeFlowBlock(w, g, marks, NOW, i + 1),
            want = referenceBlock(g, marks, i + 1, columns);
          if (!got.equals(want)) assert.fail(`${name}, block of ${size} at ${i} differs (${columns === LC_AS_STRING ? 'String' : 'LowCardinality'} columns)`);
        }
      }
    }
    // The generator's sets have every shape; the decoder's realistic flows are all direct-path ones.
    if (name !== 'corners') assert.ok(shapes[Shape.Plain] > 0 && shapes[Shape.PlainWithRest] > 0, `${name}: ${shapes}`);
    if (name === 'odd' || name === 'canonical') assert.ok(shapes[Shape.General] > 0, `${name}: ${shapes}`);
  }
});

test('a flow the direct path gives up half-way is written whole by the general path', () => {
  // Plain fields first, then an explicit zero: the direct path has staged values and array
  // elements when it meets the field it cannot move.
  const flows: Flow[] = [
    canonical({ uuid: 'a', source: { labels: ['x', 'y'] }, node_labels: ['n'], verdict: 0 } as Flow),
    canonical({ uuid: 'b', source: { labels: ['z'] } }),
  ];
  assert.equal(flowShape(flows[0]), Shape.General);
  assert.ok(encodeFlowBlock(new FlowBlockWriter(), flows, [], NOW, 1).equals(referenceBlock(flows, [], 1, FLOW_NATIVE_COLUMNS)));
});

test('a block of a collector from before the provenance columns is completed with empty provenance, other bytes untouched', () => {
  const flows = genFlows(50, 5);
  const w = new FlowBlockWriter();
  for (const f of flows) w.add(f);
  const current = w.finish();
  // The same rows in the old layout: every column but the last two, rewritten value by value.
  const { rows, columns } = readNativeBlock(current);
  const legacy = new NativeBlockWriter(LEGACY_FLOW_NATIVE_COLUMNS);
  for (let r = 0; r < rows; r++) {
    LEGACY_FLOW_NATIVE_COLUMNS.forEach((c, i) => {
      const v = columns[i].values[r];
      switch (kindOf(c.type)) {
        case Kind.U8:
          return legacy.u8(i, v as number);
        case Kind.U16:
          return legacy.u16(i, v as number);
        case Kind.U32:
          return legacy.u32(i, v as number);
        case Kind.I32:
          return legacy.i32(i, v as number);
        case Kind.U64:
          return legacy.u64(i, Number(v));
        case Kind.DateTime64: {
          const ns = v as bigint;
          return legacy.dateTime64ns(i, Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n));
        }
        case Kind.IPv6:
          return legacy.ipv6(i, v as Buffer);
        case Kind.String:
        case Kind.LowCardinality:
          return legacy.str(i, v as string);
        case Kind.ArrayU64:
          return legacy.u64Array(i, (v as Array<number | bigint>).map(Number));
        default:
          return legacy.strArray(i, v as string[]);
      }
    });
    legacy.endRow();
  }
  const old = legacy.finish();
  const limits = { maxRows: 1000, maxBytes: 1 << 24 };
  assert.throws(
    () => validateNativeBlock(old, FLOW_NATIVE_COLUMNS, limits),
    (e: NativeBlockError) => e.reason === 'columns',
  );
  assert.equal(validateNativeBlock(old, LEGACY_FLOW_NATIVE_COLUMNS, limits).rows, rows);
  const completed = withEmptyProvenance(old, rows);
  assert.equal(validateNativeBlock(completed, FLOW_NATIVE_COLUMNS, limits).rows, rows);
  assert.deepStrictEqual(readNativeBlock(completed), readNativeBlock(current), 'the rows a current collector writes without provenance');
  // Column counts below 128 are one varuint byte: the old columns' bytes follow unchanged.
  assert.ok(completed.subarray(1, old.length).equals(old.subarray(1)), 'the old columns are forwarded as they came');
  assert.deepStrictEqual(
    blockProvenance(completed),
    Array.from({ length: rows }, () => ({ session: '', seq: 0 })),
  );
});
