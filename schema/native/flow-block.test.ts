import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, encode, decode, type Flow } from '../../proto/index.js';
import { genFlows } from '../../testing/gen-flows.js';
import { FlowBlockWriter, encodeFlowBlock, blockToFlows, blockRows, blockFirstTimeMs } from './flow-block.js';
import { FLOW_COLUMNS } from '../flow-columns.js';
import { FLOW_NATIVE_COLUMNS } from './types.js';

const canonical = (f: Flow): Flow => decode<Flow>(types.Flow, encode(types.Flow, f));

test('the block columns are the flows table columns, in order', () => {
  assert.deepEqual(FLOW_NATIVE_COLUMNS.map((c) => c.name), FLOW_COLUMNS.map((c) => c.name));
});

test('a block of flows reads back as the same flows (every odd shape of the generator included)', () => {
  const flows = genFlows(3000, 7, 1_700_000_000).map(canonical);
  const block = encodeFlowBlock(new FlowBlockWriter(), flows);
  assert.equal(blockRows(block), flows.length);
  const back = blockToFlows(block);
  assert.equal(back.length, flows.length);
  for (let i = 0; i < flows.length; i++) assert.deepStrictEqual(back[i], flows[i], `flow ${i}`);
});

test('blockFirstTimeMs reads the first row\'s time', () => {
  const flows: Flow[] = [{ time: { seconds: 1_700_000_123, nanos: 456_000_000 }, uuid: 'a' }, { time: { seconds: 1_700_000_200, nanos: 0 }, uuid: 'b' }];
  assert.equal(blockFirstTimeMs(encodeFlowBlock(new FlowBlockWriter(), flows)), 1_700_000_123_456);
});

test('a flow whose 64-bit value is beyond 2^53 still writes its row (the exact value stays in rest)', () => {
  const flow: Flow = canonical({ uuid: 'big', l7: { latency_ns: 2 ** 60 } } as Flow);
  const w = new FlowBlockWriter();
  w.add(flow);
  assert.equal(w.rows, 1);
  assert.deepStrictEqual(blockToFlows(w.finish())[0], flow);
});
