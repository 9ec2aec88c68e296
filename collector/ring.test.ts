import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowRing } from './ring.js';
import type { HistoryQuery } from '../observer/get-flows.js';

const q = (over: Partial<HistoryQuery>): HistoryQuery => ({
  whitelist: [],
  blacklist: [],
  predicate: () => true,
  number: 0,
  first: false,
  upTo: Infinity,
  signal: new AbortController().signal,
  ...over,
});
async function collect(it: AsyncIterable<{ uuid?: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const f of it) out.push(f.uuid!);
  return out;
}

test('ring keeps the newest flows and answers last/first/since/upTo like Hubble', async () => {
  const ring = new FlowRing(3);
  for (let i = 1; i <= 5; i++) ring.push({ uuid: `f${i}`, time: { seconds: i, nanos: 0 } });
  assert.equal(ring.length, 3);
  assert.equal(ring.seen, 5);
  assert.equal(ring.overwritten, 2);
  assert.deepEqual(await collect(ring.query(q({ number: 2 }))), ['f4', 'f5']);
  assert.deepEqual(await collect(ring.query(q({ number: 2, first: true }))), ['f3', 'f4']);
  assert.deepEqual(await collect(ring.query(q({ since: { seconds: 4, nanos: 0 } }))), ['f4', 'f5']);
  assert.deepEqual(await collect(ring.query(q({ number: 10, upTo: 4 }))), ['f3', 'f4']);
  assert.deepEqual(await collect(ring.query(q({ number: 10, predicate: (f) => f.uuid !== 'f4' }))), ['f3', 'f5']);
});

test('a resume (after) reads the ring past that cursor; a lapped resume point is reported as lost', async () => {
  const ring = new FlowRing(4);
  for (let i = 1; i <= 6; i++) ring.push({ uuid: `f${i}`, time: { seconds: i, nanos: 0 } });
  assert.deepEqual(await collect(ring.query(q({ after: 4 }))), ['f5', 'f6']);
  assert.deepEqual(await collect(ring.query(q({ after: 6 }))), []);
  const lost: number[] = [];
  // f1 and f2 were overwritten (the ring holds f3..f6): a reader resuming after 0 lost two.
  assert.deepEqual(await collect(ring.query(q({ after: 0, onLost: (e) => lost.push(Number(e.num_events_lost)) }))), ['f3', 'f4', 'f5', 'f6']);
  assert.deepEqual(lost, [2]);
});

test('a reader of the whole ring lets the event loop run while it rebuilds the flows', async () => {
  const ring = new FlowRing(2000);
  for (let i = 1; i <= 2000; i++) ring.push({ uuid: `f${i}`, time: { seconds: i, nanos: 0 } });
  // Another task of the loop (the collector reading its perf ring) counts the turns it gets.
  let turns = 0;
  let reading = true;
  const other = () => {
    if (!reading) return;
    turns++;
    setImmediate(other);
  };
  setImmediate(other);
  const got = await collect(ring.query(q({})));
  reading = false;
  assert.equal(got.length, 2000);
  assert.ok(turns >= 5, `the loop ran ${turns} times during the read`);
});
