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
