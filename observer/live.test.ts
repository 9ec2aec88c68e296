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
