import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, encode, decode, type Flow } from '../proto/index.js';
import { genFlows } from '../testing/gen-flows.js';
import { realisticFlows } from '../testing/realistic-flows.js';
import { RowBinaryWriter } from './rowbinary.js';
import { IpColumns, writeFlowRow, usePlainPath } from './flow-row.js';
import { isPlainFlow } from './plain-flow.js';

const canonical = (f: Flow): Flow => decode<Flow>(types.Flow, encode(types.Flow, f));

function rows(flows: readonly Flow[], plain: boolean): Buffer[] {
  usePlainPath(plain);
  try {
    const w = new RowBinaryWriter();
    return flows.map((f) => {
      w.reset();
      writeFlowRow(w, f, [], 1_700_000_000_000, 7);
      return Buffer.from(w.bytes());
    });
  } finally {
    usePlainPath(true);
  }
}

test('the in-place path for plain flows writes exactly what the general path writes', () => {
  const flows = [...genFlows(4000, 21).map(canonical), ...realisticFlows(3000, { nodes: 3, seed: 4 })];
  const snapshot = JSON.stringify(flows);
  const fast = rows(flows, true),
    general = rows(flows, false);
  let plain = 0;
  for (let i = 0; i < flows.length; i++) {
    if (isPlainFlow(flows[i])) plain++;
    assert.ok(fast[i].equals(general[i]), `row ${i} differs: ${JSON.stringify(flows[i])}`);
  }
  // Both kinds occur, and encoding never changes the flows it reads.
  assert.ok(plain > 1000 && plain < flows.length, `${plain} plain flows`);
  assert.equal(JSON.stringify(flows), snapshot);
});

test('plain flows are recognised conservatively', () => {
  const base: Flow = { time: { seconds: 10, nanos: 5 }, uuid: 'u', verdict: 1, l4: { TCP: { source_port: 1, destination_port: 2, flags: { SYN: true } } } };
  assert.equal(isPlainFlow(base), true);
  assert.equal(isPlainFlow({ ...base, verdict: 0 }), false, 'explicit zero');
  assert.equal(isPlainFlow({ ...base, time: { seconds: 10 } }), false, 'time without nanos');
  assert.equal(isPlainFlow({ ...base, l4: { TCP: { flags: { SYN: false } } } }), false, 'explicit false flag');
  assert.equal(isPlainFlow({ ...base, l4: { TCP: {}, UDP: {} } }), false, 'two L4 headers');
  assert.equal(isPlainFlow({ ...base, l7: { http: { code: 200 } } }), false, 'HTTP stays in rest');
  assert.equal(isPlainFlow({ ...base, is_reply: {} as never }), false, 'empty wrapper');
  assert.equal(isPlainFlow({ ...base, socket_cookie: 3 }), false, 'field without a column');
});

test('IP columns: IPv6 and non-addresses, parsed once per string, give the same columns on every read', () => {
  const c = new IpColumns();
  const read = (s: string) => {
    c.read(s);
    return { hex: Buffer.from(c.addr).toString('hex'), raw: c.raw, ok: c.ok };
  };
  const cases: Array<[string, { hex: string; raw: string; ok: boolean }]> = [
    ['2001:db8::1', { hex: '20010db8000000000000000000000001', raw: '', ok: true }],
    // Not the canonical form: the address, and the string kept as written.
    ['2001:DB8:0:0::1', { hex: '20010db8000000000000000000000001', raw: '2001:DB8:0:0::1', ok: true }],
    ['not-an-ip', { hex: '0'.repeat(32), raw: 'not-an-ip', ok: false }],
    ['10.0.0.1', { hex: '00000000000000000000ffff0a000001', raw: '', ok: true }],
  ];
  for (let round = 0; round < 3; round++) for (const [s, want] of cases) assert.deepEqual(read(s), want, `${s}, read ${round + 1}`);
  // Reading an IPv4 address (into the instance's scratch) leaves a shared IPv6 address untouched.
  const a = new IpColumns();
  a.read('2001:db8::1');
  const shared = a.addr;
  a.read('192.168.1.1');
  assert.equal(Buffer.from(shared).toString('hex'), '20010db8000000000000000000000001');
});
