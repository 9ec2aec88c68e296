import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimeOrderMerger } from './merge.js';
import type { LiveItem } from '../observer/live.js';

const item = (sec: number, cursor = 1): LiveItem => ({ cursor, flow: { time: { seconds: sec, nanos: 0 }, uuid: String(sec) } });

test('merges collectors in time order once every watermark passed', () => {
  const out: number[] = [];
  const m = new TimeOrderMerger((items) => out.push(...items.map((i) => i.flow!.time!.seconds)), { maxDelayMs: 1e12, maxBuffered: 1000, tickMs: 10 });
  const now = Math.floor(Date.now() / 1000);
  m.add('a', [item(now + 1), item(now + 4)]);
  m.add('b', [item(now + 2)]);
  m.release();
  // b's watermark (2) holds back a's 4.
  assert.deepEqual(out, [now + 1, now + 2]);
  m.add('b', [item(now + 3), item(now + 5)]);
  m.release();
  assert.deepEqual(out, [now + 1, now + 2, now + 3, now + 4]);
  m.removeSource('a');
  m.release();
  assert.deepEqual(out, [now + 1, now + 2, now + 3, now + 4, now + 5]);
});

test('old flows are released after maxDelay even if a collector is idle, and overflow releases oldest', () => {
  const out: number[] = [];
  const m = new TimeOrderMerger((items) => out.push(...items.map((i) => i.flow!.time!.seconds)), { maxDelayMs: 1000, maxBuffered: 2, tickMs: 10 });
  const now = Math.floor(Date.now() / 1000);
  m.add('idle', [item(now + 100)]);
  m.add('a', [item(now - 10), item(now - 5)]);
  m.release();
  assert.deepEqual(out, [now - 10, now - 5]);
  m.add('a', [item(now + 200), item(now + 300), item(now + 400)]);
  assert.deepEqual(out.slice(2), [now + 100, now + 200]);
  m.stop();
  assert.deepEqual(out.slice(4), [now + 300, now + 400]);
});

test('a collector that has not delivered yet holds the others until they waited maxDelay; backlogs are sorted together', () => {
  const out: number[] = [];
  let clock = 1_000_000;
  const m = new TimeOrderMerger((items) => out.push(...items.map((i) => i.flow!.time!.seconds)), {
    maxDelayMs: 250,
    maxBuffered: 100,
    tickMs: 10,
    now: () => clock,
  });
  const now = Math.floor(Date.now() / 1000);
  m.addSource('a');
  m.addSource('b');
  // a's ring backlog: old flows, but b may still send older ones.
  m.add('a', [item(now - 10), item(now - 8)]);
  m.release();
  assert.deepEqual(out, []);
  clock += 100;
  m.addOne('b', item(now - 9));
  m.release();
  assert.deepEqual(out, [now - 10, now - 9], 'released up to the lowest watermark, in time order');
  clock += 300;
  m.release();
  assert.deepEqual(out, [now - 10, now - 9, now - 8], 'the rest once it waited maxDelay');
});
