import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LossCounters } from './loss.js';
import { DecodeQueue, type DecodeQueueSink } from './decode-queue.js';
import { FlowRing } from './ring.js';
import { LiveFeed } from '../observer/live.js';
import { LostEventSource, type LostEvent } from '../proto/types.js';
import type { RawRecord } from './source.js';
import type { HistoryQuery } from '../observer/get-flows.js';
import { startCollector } from './main.js';
import { ObserverApiClient } from '../api/client.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SyntheticSource } from './sources/synthetic.js';
import { recordsToText } from './sources/file-writer.js';

const { PERF_EVENT_RING_BUFFER, OBSERVER_EVENTS_QUEUE, HUBBLE_RING_BUFFER } = LostEventSource;

test('LossCounters: one counter per Hubble source, snapshot keyed like hubble_lost_events_total', () => {
  const l = new LossCounters();
  const seen: [number, number][] = [];
  l.onAdd = (s, n) => seen.push([s, n]);
  l.add(PERF_EVENT_RING_BUFFER, 3);
  l.add(OBSERVER_EVENTS_QUEUE, 2);
  l.add(HUBBLE_RING_BUFFER, 1);
  l.add(HUBBLE_RING_BUFFER, 0);
  assert.deepEqual(l.snapshot(), { perf_event_ring_buffer: 3, observer_events_queue: 2, hubble_ring_buffer: 1 });
  assert.equal(l.get(OBSERVER_EVENTS_QUEUE), 2);
  assert.deepEqual(seen, [
    [1, 3],
    [2, 2],
    [3, 1],
  ]);
  assert.throws(() => l.add(0 as 1, 1), /unknown lost-event source/);
});

class RecordingSink implements DecodeQueueSink {
  chunks: number[] = [];
  lostEvents: LostEvent[] = [];
  perf: [number, number][] = [];
  records(b: RawRecord[]): void {
    this.chunks.push(b.length);
  }
  lost(cpu: number, n: number): void {
    this.perf.push([cpu, n]);
  }
  lostEvent(ev: LostEvent): void {
    this.lostEvents.push(ev);
  }
}
const recs = (n: number): RawRecord[] => Array.from({ length: n }, () => ({ data: new Uint8Array(1), cpu: 0, timeNs: 0 }));

test('decode queue: bounded, decodes in slices, overflow counted and reported at most once per interval', async () => {
  const sink = new RecordingSink();
  const loss = new LossCounters();
  let now = 10_000;
  const q = new DecodeQueue(sink, loss, { maxRecords: 100, sliceRecords: 30, lostEventIntervalMs: 50 }, () => now);
  q.records(recs(80));
  q.records(recs(50)); // 20 fit, 30 dropped
  assert.equal(q.length, 100);
  assert.equal(q.dropped, 30);
  assert.equal(loss.get(OBSERVER_EVENTS_QUEUE), 30);
  await q.idle();
  assert.deepEqual(sink.chunks, [30, 30, 20, 10, 10]);
  assert.equal(sink.lostEvents.length, 1);
  assert.deepEqual(sink.lostEvents[0], {
    source: OBSERVER_EVENTS_QUEUE,
    num_events_lost: 30,
    first: { seconds: 10, nanos: 0 },
    last: { seconds: 10, nanos: 0 },
  });
  // Two overflows within the interval: one LostEvent later, carrying both.
  now += 10;
  q.records(recs(101));
  now += 5;
  q.records(recs(200));
  await q.idle();
  assert.equal(sink.lostEvents.length, 2);
  assert.equal(sink.lostEvents[1].num_events_lost, 1 + 200); // the queue was still full for the second batch
  assert.equal(loss.get(OBSERVER_EVENTS_QUEUE), 30 + sink.lostEvents[1].num_events_lost!);
  // Perf losses go straight through; waitForRoom resolves once half empty.
  q.lost(3, 7);
  assert.deepEqual(sink.perf, [[3, 7]]);
  q.records(recs(100));
  let roomy = false;
  const room = q.waitForRoom().then(() => {
    roomy = true;
  });
  assert.equal(roomy, false);
  await room;
  assert.ok(q.length <= 50);
  q.flush();
  assert.equal(q.length, 0);
  assert.equal(sink.chunks.reduce((a, b) => a + b, 0) + q.dropped, 80 + 50 + 101 + 200 + 100);
});

const flow = (i: number) => ({ uuid: `f${i}`, time: { seconds: i, nanos: 0 } });
const query = (over: Partial<HistoryQuery>): HistoryQuery => ({
  whitelist: [],
  blacklist: [],
  predicate: () => true,
  number: 0,
  first: true,
  upTo: Infinity,
  signal: new AbortController().signal,
  ...over,
});

test('ring: overwriting is not loss; a reader lapped by the writer gets HUBBLE_RING_BUFFER lost events', async () => {
  const loss = new LossCounters();
  const ring = new FlowRing(4, loss);
  for (let i = 1; i <= 10; i++) ring.push(flow(i));
  assert.equal(ring.overwritten, 6);
  assert.equal(loss.get(HUBBLE_RING_BUFFER), 0);
  const lost: LostEvent[] = [];
  const got: string[] = [];
  for await (const f of ring.query(query({ upTo: 10, onLost: (e) => lost.push(e) }))) {
    got.push(f.uuid!);
    // A slow client: 3 new flows arrive while it holds the first one.
    if (f.uuid === 'f7') for (let i = 11; i <= 13; i++) ring.push(flow(i));
  }
  // f8 and f9 were overwritten before this reader reached them; f10 is still there.
  assert.deepEqual(got, ['f7', 'f10']);
  assert.equal(lost.length, 1);
  assert.equal(lost[0].source, HUBBLE_RING_BUFFER);
  assert.equal(lost[0].num_events_lost, 2);
  assert.equal(loss.get(HUBBLE_RING_BUFFER), 2);
});

test('live feed: a follower more than its bound behind loses flows under the configured source', async () => {
  let dropped = 0;
  const feed = new LiveFeed(2, {
    lostSource: HUBBLE_RING_BUFFER,
    onDrop: (n) => {
      dropped += n;
    },
  });
  const sub = feed.subscribe(0);
  feed.publish([1, 2, 3, 4].map((c) => ({ cursor: c, flow: { uuid: `f${c}` } })));
  feed.publish([{ cursor: Number.MAX_SAFE_INTEGER, lost: { source: PERF_EVENT_RING_BUFFER, num_events_lost: 9 } }]);
  const items = await sub.next();
  assert.deepEqual(
    items.map((i) => i.flow?.uuid ?? `lost:${i.lost!.source}:${i.lost!.num_events_lost}`),
    ['f1', 'f2', 'lost:1:9', 'lost:3:2'],
  );
  assert.equal(dropped, 2);
  sub.close();
});

// A live source faster than the decoder: the synthetic ring reads only what the decode queue has
// room for (DecodeQueue.room), and the rest is lost in the ring, as in a kernel perf ring.
test('collector end to end: records a full decode queue has no room for reach a follower as a PERF_EVENT_RING_BUFFER LostEvent', async (t) => {
  const c = await startCollector({
    source: { kind: 'synthetic', rate: 200_000, seed: 2, node: '1', clusterNodes: 4 },
    relay: null,
    listen: '127.0.0.1:0',
    ringCapacity: 4095,
    maxUnackedFlows: 1000,
    decodeQueueSize: 10,
  });
  const client = new ObserverApiClient(`127.0.0.1:${c.port}`, 15_000);
  t.after(async () => {
    client.close();
    await c.stop();
  });
  const abort = new AbortController();
  let lost: LostEvent | undefined;
  let flows = 0;
  await client
    .getFlows(
      { follow: true },
      (r) => {
        if (r.flow) flows++;
        if (r.lost_events && r.lost_events.source === PERF_EVENT_RING_BUFFER) lost ??= r.lost_events;
        // Both, in whichever order they come (a loss can be reported before the first flow).
        if (lost && flows > 0) abort.abort();
      },
      abort.signal,
    )
    .catch((e: Error) => {
      if (!abort.signal.aborted) throw e;
    });
  assert.ok(lost, 'a LostEvent arrived');
  assert.ok(Number(lost.num_events_lost) > 0);
  assert.ok(c.loss.get(PERF_EVENT_RING_BUFFER) >= Number(lost.num_events_lost));
  assert.equal(c.pipeline.stats.perfLost, c.loss.get(PERF_EVENT_RING_BUFFER));
  // The queue's own drops (none while the source asks for room) are still counted where they happen.
  assert.equal(c.queue.dropped, c.loss.get(OBSERVER_EVENTS_QUEUE));
  assert.ok(c.queue.peakRecords <= 10, `the queue held ${c.queue.peakRecords} records at most`);
  assert.ok(flows > 0);
});

test('collector end to end: a file source waits for the decode queue and loses nothing', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'flowscope-loss-'));
  const file = path.join(dir, 'records.jsonl');
  const src = new SyntheticSource({ seed: 4 });
  writeFileSync(file, recordsToText(src.take(5000, 1.7e18)));
  const c = await startCollector({
    source: { kind: 'file', path: file },
    nodeName: src.nodeName,
    relay: null,
    listen: '127.0.0.1:0',
    ringCapacity: 10_000,
    maxUnackedFlows: 1000,
    decodeQueueSize: 10,
  });
  t.after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await c.finished;
  assert.equal(c.pipeline.stats.recordsRead, 5000);
  assert.equal(c.queue.dropped, 0);
  assert.deepEqual(c.loss.snapshot(), { perf_event_ring_buffer: 0, observer_events_queue: 0, hubble_ring_buffer: 0 });
});
