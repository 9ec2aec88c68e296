import { test } from 'node:test';
import assert from 'node:assert/strict';
import { types, encode, decode } from '../../proto/index.js';
import type { IngestMessage, LostEvent } from '../../proto/types.js';
import { LostEventSource } from '../../proto/types.js';
import { BATCH_HEADROOM, encodeBatchMessage } from './batch-message.js';

const lostEvent = (n: number): LostEvent => ({
  source: LostEventSource.OBSERVER_EVENTS_QUEUE,
  num_events_lost: n,
  first: { seconds: 1, nanos: 2 },
  last: { seconds: 3, nanos: 4 },
});

/** A block of `len` bytes after the headroom, as FlowBlockWriter.finish(headroom) returns it. */
function framed(len: number): Buffer {
  const b = Buffer.alloc(BATCH_HEADROOM + len);
  for (let i = 0; i < len; i++) b[BATCH_HEADROOM + i] = (i * 31 + 7) & 0xff;
  return b;
}

test('a batch message framed in front of its block is the bytes protobufjs writes', () => {
  for (const len of [1, 127, 128, 16_383, 16_384, 900_000]) {
    for (const lost of [[], [lostEvent(5)], [lostEvent(1), lostEvent(300)]]) {
      for (const seq of [1, 200, 2 ** 40]) {
        const f = framed(len);
        const block = Buffer.from(f.subarray(BATCH_HEADROOM));
        const want = encode(types.IngestMessage, { batch: { seq, lost_events: lost, block } });
        const got = encodeBatchMessage(seq, lost, f);
        assert.ok(got.equals(want), `block ${len} B, ${lost.length} lost events, seq ${seq}`);
        assert.equal(got.buffer, f.buffer, 'the block was not copied');
      }
    }
  }
});

test('lost events that do not fit in front, and a batch without flows, are encoded the usual way', () => {
  const many = Array.from({ length: 20 }, (_, i) => lostEvent(i + 1));
  const f = framed(1000);
  const got = encodeBatchMessage(9, many, f);
  const msg = decode<IngestMessage>(types.IngestMessage, got);
  assert.equal(Number(msg.batch!.seq), 9);
  assert.equal(msg.batch!.lost_events!.length, 20);
  assert.ok(Buffer.from(msg.batch!.block!).equals(f.subarray(BATCH_HEADROOM)));
  const empty = decode<IngestMessage>(types.IngestMessage, encodeBatchMessage(10, [lostEvent(2)], null));
  assert.equal(Number(empty.batch!.seq), 10);
  assert.equal(empty.batch!.block?.length ?? 0, 0);
});
