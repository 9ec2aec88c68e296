// The decode queue's two bounds (records and bytes) under a source faster than the decoder:
// they hold, and every record offered is delivered or counted, never silently lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LossCounters } from './loss.js';
import { DecodeQueue, recordBytes, type DecodeQueueSink } from './decode-queue.js';
import { LostEventSource, type LostEvent } from '../proto/types.js';
import type { RawRecord } from './source.js';
import { SyntheticSource } from './sources/synthetic.js';
import { waitFor } from '../testing/harness.js';

class CountingSink implements DecodeQueueSink {
  delivered = 0;
  bytes = 0;
  perfLost = 0;
  lostEvents: LostEvent[] = [];
  order: number[] = [];
  records(b: RawRecord[]): void {
    this.delivered += b.length;
    for (const r of b) {
      this.bytes += r.data.byteLength;
      this.order.push(r.timeNs);
    }
  }
  lost(_cpu: number, n: number): void {
    this.perfLost += n;
  }
  lostEvent(ev: LostEvent): void {
    this.lostEvents.push(ev);
  }
}

/** `n` records of 1 to 400 bytes, numbered by timeNs from `from`. */
const mixed = (n: number, from = 0): RawRecord[] =>
  Array.from({ length: n }, (_, i) => ({ data: new Uint8Array(1 + (((from + i) * 37) % 400)), cpu: 0, timeNs: from + i }));
const bytesOf = (rs: readonly RawRecord[]) => rs.reduce((a, r) => a + recordBytes(r), 0);

test('decode queue: the byte bound holds for live batches; what does not fit is dropped and counted', async () => {
  const sink = new CountingSink();
  const loss = new LossCounters();
  const maxBytes = 40_000;
  const q = new DecodeQueue(sink, loss, { maxRecords: 10_000, maxBytes, sliceRecords: 50 });
  let offered = 0;
  // Fed faster than drained: many batches before the queue gets a single turn.
  for (let i = 0; i < 40; i++) {
    const b = mixed(30, offered);
    offered += b.length;
    q.records(b);
    assert.ok(q.bytes <= maxBytes, `queued ${q.bytes} bytes within ${maxBytes}`);
  }
  assert.ok(q.dropped > 0, 'the byte bound was reached');
  assert.ok(q.peakBytes <= maxBytes && q.peakBytes > maxBytes / 2);
  await q.idle();
  assert.equal(sink.delivered + q.dropped, offered, 'delivered + dropped = offered');
  assert.equal(loss.get(LostEventSource.OBSERVER_EVENTS_QUEUE), q.dropped);
  assert.equal(
    sink.lostEvents.reduce((n, e) => n + (e.num_events_lost ?? 0), 0),
    q.dropped,
    'every drop reported in a LostEvent',
  );
  assert.equal(q.bytes, 0, 'bytes accounted back to zero once decoded');
});

test('decode queue: room() says how much a live source may hand over without a drop', () => {
  const sink = new CountingSink();
  const q = new DecodeQueue(sink, new LossCounters(), { maxRecords: 100, maxBytes: 100 * 1000, sliceRecords: 10 });
  assert.equal(q.room(), 100);
  q.records(mixed(60));
  const room = q.room();
  assert.ok(room > 0 && room <= 40, `room ${room}`);
  q.records(mixed(room, 60).map((r) => ({ ...r, data: new Uint8Array(10) })));
  assert.equal(q.dropped, 0, 'what room() allowed was taken whole');
  q.flush();
});

test('decode queue: a paced source larger than both bounds is taken in pieces, never over a bound, nothing lost, in order', async () => {
  const sink = new CountingSink();
  const loss = new LossCounters();
  const maxRecords = 500;
  const maxBytes = 60_000;
  const q = new DecodeQueue(sink, loss, { maxRecords, maxBytes, sliceRecords: 64 });
  const batch = mixed(20_000); // 40× the record bound, and far over the byte bound
  const expectBytes = batch.reduce((a, r) => a + r.data.byteLength, 0);
  let peak = 0;
  const watch = setInterval(() => (peak = Math.max(peak, q.bytes)), 0);
  await q.recordsPaced(batch);
  await q.idle();
  clearInterval(watch);
  assert.ok(q.peakRecords <= maxRecords, `peak ${q.peakRecords} records`);
  assert.ok(q.peakBytes <= maxBytes, `peak ${q.peakBytes} bytes`);
  assert.ok(peak <= maxBytes);
  assert.equal(q.dropped, 0);
  assert.equal(sink.delivered, 20_000);
  assert.equal(sink.bytes, expectBytes);
  assert.deepEqual(
    sink.order,
    Array.from({ length: 20_000 }, (_, i) => i),
    'in order',
  );
  assert.equal(loss.get(LostEventSource.OBSERVER_EVENTS_QUEUE), 0);
});

test('decode queue: a record larger than the byte bound still passes alone (a paced source never waits forever)', async () => {
  const sink = new CountingSink();
  const q = new DecodeQueue(sink, new LossCounters(), { maxRecords: 100, maxBytes: 1000, sliceRecords: 10 });
  const big = { data: new Uint8Array(5000), cpu: 0, timeNs: 1 };
  await q.recordsPaced([...mixed(3, 10), big, ...mixed(3, 20)]);
  await q.idle();
  assert.equal(sink.delivered, 7);
  assert.equal(q.dropped, 0);
  assert.ok(q.peakBytes <= recordBytes(big), 'the large record went through an otherwise empty queue');
  assert.ok(bytesOf([big]) > 1000);
});

test('decode queue under a synthetic source 100× faster than its bound: bounded, and offered = delivered + lost in the ring + dropped', async () => {
  const sink = new CountingSink();
  const loss = new LossCounters();
  const maxRecords = 2000;
  const maxBytes = 512 * 1024;
  const q = new DecodeQueue(sink, loss, { maxRecords, maxBytes, sliceRecords: 256 });
  const src = new SyntheticSource({ rate: 1_000_000, seed: 3, tickMs: 20 });
  await src.start(q);
  await waitFor('the source ran past its sink many times over', async () => (src.emitted > 200_000 && src.lostInRing > 0 ? true : undefined), 120_000);
  await src.stop();
  await q.idle();
  assert.ok(q.peakRecords <= maxRecords, `peak ${q.peakRecords} records`);
  assert.ok(q.peakBytes <= maxBytes, `peak ${q.peakBytes} bytes`);
  assert.equal(sink.perfLost, src.lostInRing, 'what the ring lost was reported to the sink (PERF_EVENT_RING_BUFFER)');
  assert.equal(sink.delivered + src.lostInRing + q.dropped, src.emitted, 'offered = delivered + lost in the ring + dropped');
  assert.equal(loss.get(LostEventSource.OBSERVER_EVENTS_QUEUE), q.dropped);
});
