// The start-up warm-up runs the records asked for through its own pipeline and rejects a bad
// count. (That nothing of it reaches the ring or the relay, every end-to-end test that counts a
// collector's stored flows checks: collectors warm up by default.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmUpPipeline } from './warmup.js';

test('the warm-up decodes the records it was asked for into flows of its own', async () => {
  const r = await warmUpPipeline(9000);
  assert.equal(r.records, 9000);
  // Most generated records are flows (a few are other monitor events, L7 DNS adds some).
  assert.ok(r.flows > 8000, `${r.flows} flows from 9000 records`);
  const none = await warmUpPipeline(0);
  assert.equal(none.records + none.flows, 0);
  for (const bad of [-1, 1.5, Number.NaN]) await assert.rejects(warmUpPipeline(bad), /invalid warm-up record count/);
});
