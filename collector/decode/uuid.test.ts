import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastUUID } from './uuid.js';

test('fastUUID: RFC 9562 version 7, unique, ordered by creation', () => {
  const seen = new Set<string>();
  let prev = '';
  const t0 = Date.now();
  for (let i = 0; i < 5000; i++) {
    const u = fastUUID();
    assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(u > prev, `${u} sorts after ${prev}`);
    prev = u;
    seen.add(u);
  }
  assert.equal(seen.size, 5000);
  // The first 48 bits are the Unix time in milliseconds.
  const ms = parseInt(prev.slice(0, 8) + prev.slice(9, 13), 16);
  assert.ok(ms >= t0 && ms <= Date.now());
  // A clock stepping back does not break the order.
  const a = fastUUID(Date.now() + 10_000),
    b = fastUUID(Date.now());
  assert.ok(b > a);
});
