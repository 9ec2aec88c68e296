import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS, COLLECTOR_RUNTIME_FLAGS } from './heap.js';
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

// A process that frees blocks of about 1 MB as a collector does (gRPC frames each batch into a
// new buffer) with small buffers allocated in between that stay, and reports, in MB, what its
// resident memory kept of the freed blocks.
const FREE_FRAMES = `
const rssMb = () => process.memoryUsage().rss / 1048576;
let first = Buffer.allocUnsafe(1 << 20).fill(1);
first = null;
gc(); gc();
const before = rssMb(), frames = [], kept = [];
for (let round = 0; round < 20; round++) {
  for (let i = 0; i < 16; i++) { frames.push(Buffer.allocUnsafe(900000 + i).fill(1)); kept.push(Buffer.allocUnsafe(20000).fill(2)); }
  frames.length = 0;
  gc();
}
setTimeout(() => { gc(); process.stdout.write(String(rssMb() - before - (kept.length * 20000) / 1048576)); }, 100);
`;

function keptMb(env: NodeJS.ProcessEnv): number {
  return Number(
    execFileSync(process.execPath, ['--expose-gc', '-e', FREE_FRAMES], {
      env: { ...process.env, MALLOC_MMAP_THRESHOLD_: undefined, ...env },
      encoding: 'utf8',
    }),
  );
}

test('collector environment: freed 1 MB frames go back to the system instead of staying in the process', () => {
  const tuned = keptMb(COLLECTOR_ENV);
  const glibcDefault = keptMb({});
  // 320 frames of 0.9 MB went through: with glibc's sliding threshold the process keeps some of
  // them (13–15 MB measured), with the collector's setting about 1 MB.
  assert.ok(tuned < 3, `kept ${tuned.toFixed(1)} MB of freed frames with ${JSON.stringify(COLLECTOR_ENV)}`);
  assert.ok(glibcDefault > tuned + 5, `kept ${glibcDefault.toFixed(1)} MB without it, ${tuned.toFixed(1)} MB with it`);
});
