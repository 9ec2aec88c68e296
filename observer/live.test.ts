import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveFeed } from './live.js';

test('a subscription sees only items after its start cursor, and reports overflow as lost', async () => {
  const feed = new LiveFeed(2);
  feed.advance(5);
  const sub = feed.subscribe();
  assert.equal(sub.startCursor, 5);
  feed.publish([
    { cursor: 5, flow: { uuid: 'old' } },
    { cursor: 6, flow: { uuid: 'a' } },
    { cursor: 7, flow: { uuid: 'b' } },
    { cursor: 8, flow: { uuid: 'c' } },
  ]);
  const got = await sub.next();
  assert.deepEqual(
    got.filter((i) => i.flow).map((i) => i.flow!.uuid),
    ['a', 'b'],
  );
  assert.equal(got.find((i) => i.lost)?.lost?.num_events_lost, 1);
  sub.close();
  assert.equal(feed.subscribers, 0);
  assert.deepEqual(await sub.next(), []);
});

test('a subscription queues only the flows its reader accepts: others neither fill nor lap it', async () => {
  const feed = new LiveFeed(2);
  const sub = feed.subscribe(0, (f) => f.verdict === 2);
  const items = Array.from({ length: 10 }, (_, i) => ({ cursor: i + 1, flow: { uuid: `f${i}`, verdict: i % 5 === 0 ? 2 : 1 } }));
  feed.publish(items);
  feed.publish([{ cursor: 11, lost: { source: 1, num_events_lost: 3 } }]);
  const got = await sub.next();
  // Two accepted flows fit the bound of 2: the eight others were skipped, not dropped as lost.
  assert.deepEqual(
    got.filter((i) => i.flow).map((i) => i.flow!.uuid),
    ['f0', 'f5'],
  );
  // Lost events always reach the reader.
  assert.deepEqual(
    got.filter((i) => i.lost).map((i) => i.lost!.num_events_lost),
    [3],
  );
  sub.close();
});

test('flows offered one by one reach each subscriber as published ones do, with overflow counted once per batch', async () => {
  let droppedReports = 0,
    droppedTotal = 0;
  const feed = new LiveFeed(3, {
    onDrop: (n) => {
      droppedReports++;
      droppedTotal += n;
    },
  });
  feed.advance(2);
  const all = feed.subscribe();
  const drops = feed.subscribe(0, (f) => f.verdict === 2);
  let woken = false;
  const pending = all.next().then((items) => {
    woken = true;
    return items;
  });
  for (let c = 1; c <= 8; c++) feed.offer(c, { uuid: `f${c}`, verdict: c % 3 === 0 ? 2 : 1 });
  // Nothing is handed over before the batch ends.
  await new Promise((r) => setImmediate(r));
  assert.equal(woken, false);
  feed.advance(8);
  feed.endOffers();
  const got = await pending;
  // Cursors 1–2 were history for `all`; it holds 3 of the 6 after them and loses the other 3.
  assert.deepEqual(
    got.filter((i) => i.flow).map((i) => [i.cursor, i.flow!.uuid]),
    [
      [3, 'f3'],
      [4, 'f4'],
      [5, 'f5'],
    ],
  );
  assert.equal(got.find((i) => i.lost)?.lost?.num_events_lost, 3);
  assert.equal(droppedReports, 1);
  assert.equal(droppedTotal, 3);
  // `drops` reads from cursor 0 and accepts verdict 2 only: cursors 3 and 6, nothing lost.
  const d = await drops.next();
  assert.deepEqual(
    d.map((i) => i.flow?.uuid),
    ['f3', 'f6'],
  );
  all.close();
  feed.offer(9, { uuid: 'late' });
  feed.endOffers();
  assert.deepEqual(await all.next(), []);
  drops.close();
});
