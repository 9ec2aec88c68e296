import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastUUID } from './uuid.js';

test('fastUUID: RFC 4122 version 4, unique across batches', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const u = fastUUID();
    assert.match(u, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    seen.add(u);
  }
  assert.equal(seen.size, 5000);
});
