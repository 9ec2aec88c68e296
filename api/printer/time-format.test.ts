// formatGoTime keeps the rendering of the last second: the answer must not depend on what was
// formatted before (another second, layout or zone), and fractions are cut as Go cuts them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAYOUTS, formatGoTime } from './time-format.js';
import { rng } from '../../testing/gen-flows.js';

test('Go layouts, fractions truncated (.000) or trimmed (.999)', () => {
  assert.equal(formatGoTime(LAYOUTS.StampMilli, 0, 123_456_789, 'UTC'), 'Jan  1 00:00:00.123');
  assert.equal(formatGoTime(LAYOUTS.RFC3339Nano, 1_700_000_000, 120_000_000, 'UTC'), '2023-11-14T22:13:20.12Z');
  assert.equal(formatGoTime(LAYOUTS.RFC3339Nano, 1_700_000_000, 0, 'UTC'), '2023-11-14T22:13:20Z');
  assert.equal(formatGoTime(LAYOUTS.RFC3339Milli, 1_700_000_000, 999_999_999, 'Asia/Kolkata'), '2023-11-15T03:43:20.999+05:30');
  assert.equal(formatGoTime('05.000 .999999 05', 1_700_000_000, 1_000, 'UTC'), '20.000 .000001 20');
  assert.equal(formatGoTime(LAYOUTS.RFC1123Z, 1_700_000_000, 5, 'America/New_York'), 'Tue, 14 Nov 2023 17:13:20 -0500');
});

test('the answer does not depend on what was formatted before', () => {
  const rand = rng(7);
  const layouts = Object.values(LAYOUTS);
  const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', undefined];
  const cases = Array.from({ length: 3000 }, () => ({
    layout: layouts[Math.floor(rand() * layouts.length)],
    // Runs of equal seconds, as flows in time order have.
    seconds: 1_700_000_000 + Math.floor(rand() * 5) * (rand() < 0.5 ? 1 : 86_400 * 180),
    nanos: Math.floor(rand() * 1e9),
    zone: zones[Math.floor(rand() * zones.length)],
  }));
  const inOrder = cases.map((c) => formatGoTime(c.layout, c.seconds, c.nanos, c.zone));
  // Each one again with a different second formatted just before it.
  cases.forEach((c, i) => {
    formatGoTime(c.layout, c.seconds + 1, 0, c.zone);
    assert.equal(formatGoTime(c.layout, c.seconds, c.nanos, c.zone), inOrder[i]);
  });
  // And in reverse order.
  for (let i = cases.length - 1; i >= 0; i--) assert.equal(formatGoTime(cases[i].layout, cases[i].seconds, cases[i].nanos, cases[i].zone), inOrder[i]);
});
