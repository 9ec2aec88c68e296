import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, encode, type Flow } from '../proto/index.js';
import { FlowBlocks, type FinishedBlock } from './blocks.js';
import { FlowRing } from './ring.js';
import { CollectorPipeline } from './pipeline.js';
import { LiveFeed } from '../observer/live.js';
import { buildCluster } from './synthetic/cluster.js';
import { syntheticNode } from '../testing/realistic-flows.js';
import { BATCH_HEADROOM } from './ship/batch-message.js';
import { blockProvenance, blockToFlows } from '../schema/native/flow-block.js';
import { toProtoJSON } from '../proto/json.js';

const BAD = { uuid: 5 } as unknown as Flow;
const flow = (i: number): Flow => ({ uuid: `f${i}`, time: { seconds: 1_700_000_000 + i, nanos: 0 }, node_name: 'n1' });

test('blocks are cut at maxRows and on cut(); rows carry the session and their cursor', () => {
  const blocks = new FlowBlocks('sess-1', { maxRows: 3, maxDelayMs: 0 });
  const got: FinishedBlock[] = [];
  blocks.onBlock((b) => got.push(b));
  for (let i = 1; i <= 4; i++) blocks.add(flow(i), i);
  assert.equal(got.length, 1);
  assert.equal(blocks.pending, 1);
  blocks.cut();
  blocks.cut(); // nothing pending: no empty block
  assert.deepEqual(
    got.map((b) => [b.first, b.rows]),
    [
      [1, 3],
      [4, 1],
    ],
  );
  const native = got[0].framed.subarray(BATCH_HEADROOM);
  assert.deepEqual(blockProvenance(native), [
    { session: 'sess-1', seq: 1 },
    { session: 'sess-1', seq: 2 },
    { session: 'sess-1', seq: 3 },
  ]);
  assert.deepEqual(
    blockToFlows(native).map((f) => f.uuid),
    ['f1', 'f2', 'f3'],
  );
});

test('a block is cut maxDelayMs after its first row', async () => {
  const blocks = new FlowBlocks('s', { maxRows: 1000, maxDelayMs: 5 });
  const done = new Promise<FinishedBlock>((resolve) => blocks.onBlock(resolve));
  blocks.add(flow(1), 1);
  blocks.add(flow(2), 2);
  const b = await done;
  assert.equal(b.rows, 2);
  assert.equal(blocks.pending, 0);
});

test('a row that cannot be written loses its block, counted; the next block is whole', () => {
  const blocks = new FlowBlocks('s', { maxRows: 10, maxDelayMs: 0 });
  const lost: number[] = [];
  blocks.onWriteError = (n) => lost.push(n);
  const got: FinishedBlock[] = [];
  blocks.onBlock((b) => got.push(b));
  blocks.add(flow(1), 1);
  // A uuid that is no string cannot be a row.
  blocks.add(BAD, 2);
  assert.deepEqual(lost, [2]);
  blocks.add(flow(3), 3);
  blocks.cut();
  assert.deepEqual(
    got.map((b) => [b.first, b.rows]),
    [[3, 1]],
  );

  // The ring skips the lost cursors; the others read back.
  const ring = new FlowRing(8);
  ring.push(flow(1));
  ring.push(BAD);
  ring.push(flow(3));
  assert.deepEqual(
    [...ring.range(0, ring.seen)].map((f) => f.uuid),
    ['f3'],
  );
});

test("the ring reads back the decoder's flows exactly: same protobuf bytes, same JSON", async () => {
  const { src, enricher, decoder } = syntheticNode(buildCluster({ seed: 5, nodes: 3 }), 0, 5);
  const blocks = new FlowBlocks('s', { maxRows: 700, maxDelayMs: 0 });
  const ring = new FlowRing(2000, undefined, blocks);
  const live = new LiveFeed(10_000);
  const sub = live.subscribe(0);
  const pipeline = new CollectorPipeline(decoder, enricher, ring, live, null);
  pipeline.records(src.take(5000, Date.now() * 1e6 - 60e9));
  // The live follower got the decoder's own objects; the ring holds its newest 2,000 as rows.
  const decoded = (await sub.next()).map((it) => it.flow!);
  assert.equal(decoded.length, ring.seen);
  const fromRing = [...ring.range(0, ring.seen)];
  assert.equal(fromRing.length, 2000);
  const newest = decoded.slice(-2000);
  for (let i = 0; i < newest.length; i++) {
    assert.deepEqual(encode(types.Flow, fromRing[i]), encode(types.Flow, newest[i]), `flow ${i}: protobuf`);
    assert.deepEqual(
      toProtoJSON(types.Flow, fromRing[i] as Record<string, unknown>),
      toProtoJSON(types.Flow, newest[i] as Record<string, unknown>),
      `flow ${i}: JSON`,
    );
  }
  sub.close();
});
