import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newEndpoint, newFlow } from './plain-objects.js';

test("the decoder's objects are plain objects to every reader", () => {
  const f = newFlow();
  f.verdict = 1;
  f.Summary = 'TCP Flags: SYN';
  const ep = newEndpoint();
  ep.identity = 7;
  f.source = ep;
  assert.equal(Object.getPrototypeOf(f), Object.prototype);
  assert.equal(Object.getPrototypeOf(ep), Object.prototype);
  // deepStrictEqual compares prototypes too.
  assert.deepEqual(f, { verdict: 1, Summary: 'TCP Flags: SYN', source: { identity: 7 } });
  assert.deepEqual(Object.keys(f), ['verdict', 'Summary', 'source']);
  assert.equal(JSON.stringify(f), '{"verdict":1,"Summary":"TCP Flags: SYN","source":{"identity":7}}');
  assert.deepEqual(structuredClone(f), f);
  assert.equal(f.constructor, Object);
});
