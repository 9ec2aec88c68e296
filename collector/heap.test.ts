import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { COLLECTOR_NODE_FLAGS, COLLECTOR_RUNTIME_FLAGS } from './heap.js';
import { assertV8KnowsFlags } from '../testing/v8-flags.js';

// A process that allocates as a collector does (short-lived objects, a few surviving a while)
// and reports its young generation's reserved size.
const ALLOCATE = `
const v8 = require('node:v8');
const keep = [];
for (let i = 0; i < 3e6; i++) { const o = { i, s: 'x' + (i & 1023) }; if ((i & 63) === 0) keep.push(o); if (keep.length > 20000) keep.length = 0; }
process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));
`;

function youngGenerationBytes(env: NodeJS.ProcessEnv): number {
  return Number(execFileSync(process.execPath, ['-e', ALLOCATE], { env: { ...process.env, ...env }, encoding: 'utf8' }));
}

test('collector heap: NODE_OPTIONS takes the start-time flags, and they cap the young generation', () => {
  // node refuses flags it does not allow in NODE_OPTIONS (the DaemonSet passes them that way).
  const capped = youngGenerationBytes({ NODE_OPTIONS: COLLECTOR_NODE_FLAGS.join(' ') });
  const free = youngGenerationBytes({ NODE_OPTIONS: '' });
  // Two semi-spaces of at most 4 MiB each, against V8's 2 × 16 MiB once the allocation grew it.
  assert.ok(capped <= 8 * 1024 ** 2, `young generation ${capped} bytes with ${COLLECTOR_NODE_FLAGS.join(' ')}`);
  assert.ok(free > capped, `without the flags: ${free} bytes`);
});

test('collector heap: every flag is one this V8 knows', () => {
  assertV8KnowsFlags([...COLLECTOR_NODE_FLAGS, ...COLLECTOR_RUNTIME_FLAGS]);
});
