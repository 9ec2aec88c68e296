import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, encode, decode } from '../proto/index.js';
import type { Flow, GetFlowsResponse } from '../proto/types.js';
import { LostEventSource, Verdict } from '../proto/types.js';
import { scanFlowResponse } from './raw-response.js';

const flow: Flow = {
  time: { seconds: 1_796_000_000, nanos: 123_456_789 },
  uuid: 'b7d1c0de-0000-4000-8000-000000000001',
  verdict: Verdict.FORWARDED,
  node_name: 'kind/worker',
  source: { namespace: 'shop', pod_name: 'cart-1', labels: ['k8s:app=cart'] },
  destination: { namespace: 'shop', pod_name: 'db-0' },
};
const response = (r: GetFlowsResponse) => encode(types.GetFlowsResponse, r);

test('a flow response is kept as its bytes, with its time read and nothing else decoded', () => {
  const bytes = response({ flow, node_name: flow.node_name, time: flow.time });
  const raw = scanFlowResponse(bytes);
  assert.ok(raw);
  assert.equal(raw.bytes, bytes);
  assert.deepEqual(raw.time, flow.time);
  assert.equal(raw.timeNs, 1_796_000_000 * 1e9 + 123_456_789);
  assert.ok(raw.compareTime({ seconds: 1_796_000_000, nanos: 123_456_788 }) > 0);
  assert.equal(raw.compareTime({ seconds: 1_796_000_000, nanos: 123_456_789 }), 0);
  assert.ok(raw.compareTime({ seconds: 1_796_000_001, nanos: 0 }) < 0);
  assert.deepEqual(raw.decode(), decode(types.GetFlowsResponse, bytes));
  // Time 0 (the epoch) is a time: encoded as an empty Timestamp.
  assert.deepEqual(scanFlowResponse(response({ flow, time: { seconds: 0, nanos: 0 } }))?.time, { seconds: 0, nanos: 0 });
});

test('anything but a flow with a time is left to the full decoder', () => {
  const now = { seconds: 1_796_000_000, nanos: 0 };
  assert.equal(scanFlowResponse(response({ flow: { ...flow, time: undefined }, node_name: 'n' })), null, 'no time');
  assert.equal(scanFlowResponse(response({ lost_events: { source: LostEventSource.HUBBLE_RING_BUFFER, num_events_lost: 3 }, time: now })), null);
  assert.equal(scanFlowResponse(response({ node_status: { state_change: 1, node_names: ['n'] }, time: now })), null);
  assert.equal(scanFlowResponse(Buffer.alloc(0)), null);
  // nanos out of range.
  const bad = Buffer.concat([response({ flow }), Buffer.from([0xca, 0x3e, 0x08, 0x08, 0x01, 0x10, 0x80, 0x94, 0xeb, 0xdc, 0x03])]);
  assert.equal(decode<GetFlowsResponse>(types.GetFlowsResponse, bad).time?.nanos, 1e9, 'well-formed protobuf');
  assert.equal(scanFlowResponse(bad), null);
  const fine = Buffer.concat([response({ flow }), Buffer.from([0xca, 0x3e, 0x08, 0x08, 0x01, 0x10, 0xff, 0x93, 0xeb, 0xdc, 0x03])]);
  assert.deepEqual(scanFlowResponse(fine)?.time, { seconds: 1, nanos: 999_999_999 });
});

test('truncated or random bytes never throw, and what is accepted decodes', () => {
  const bytes = response({ flow, node_name: flow.node_name, time: flow.time });
  for (let n = 0; n < bytes.length; n++) {
    const raw = scanFlowResponse(bytes.subarray(0, n));
    if (raw) raw.decode();
  }
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 8) & 0xff;
  for (let i = 0; i < 20_000; i++) {
    const b = Buffer.from(bytes);
    for (let k = 0; k < 3; k++) b[rnd() % b.length] = rnd();
    const raw = scanFlowResponse(b);
    if (raw) assert.ok(raw.nanos < 1e9 && raw.seconds >= 0);
  }
});
