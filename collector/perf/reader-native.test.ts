// PerfRingReader over the real addon and a real perf event array (root and the built kernel
// sources needed; fails under CI=true without them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bpfObject, loadPerfNative } from './native.js';
import { PerfRingReader } from './reader.js';
import { privilegeProblem } from '../sources/kernel-env.js';
import type { RawRecord } from '../source.js';

const CI = process.env.CI === 'true';
const n = loadPerfNative();
const emit = bpfObject('emit');
const missing = !n.ok ? n.reason : !emit.ok ? emit.reason : privilegeProblem();

test('perf reader: batches split by maxBatchBytes, close from inside a batch is safe', { skip: !CI && missing ? missing : false }, async () => {
  if (missing || !n.ok || !emit.ok) assert.fail(`unavailable under CI: ${missing}`);
  const native = n.native;
  const obj = native.openObject(emit.path, {});
  const readers: PerfRingReader[] = [];
  try {
    const rec = Buffer.alloc(100, 7);
    rec[0] = 4;
    // 1: a 4 KiB batch limit splits one drain of 200 records into many JS calls, all delivered in order.
    const sizes: number[] = [];
    const r1 = new PerfRingReader(native, { fd: native.mapFd(obj, 'cilium_events'), pages: 64, maxBatchBytes: 4096, drainIntervalMs: 0 });
    readers.push(r1);
    r1.start({
      records(b: RawRecord[]) {
        sizes.push(b.length);
      },
      lost() {
        assert.fail('nothing should be lost');
      },
    });
    native.testRun(obj, 'emit_record', rec, 200);
    r1.drain();
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      200,
    );
    assert.ok(sizes.length > 1 && Math.max(...sizes) <= Math.floor(4096 / (8 + 104)) + 1, `batches ${sizes.join(',')}`);
    assert.equal(r1.stats().records, 200);
    r1.close();
    // 2: closing from inside the first batch (mid-drain) stops delivery without freeing the buffer under libbpf.
    let calls = 0,
      got = 0;
    const r2 = new PerfRingReader(native, { fd: native.mapFd(obj, 'cilium_events'), pages: 64, maxBatchBytes: 4096, drainIntervalMs: 0 });
    readers.push(r2);
    r2.start({
      records(b: RawRecord[]) {
        calls++;
        got += b.length;
        r2.close();
      },
      lost() {},
    });
    native.testRun(obj, 'emit_record', rec, 200);
    r2.drain();
    assert.equal(calls, 1);
    assert.ok(got > 0 && got < 200);
    r2.close(); // idempotent
    assert.deepEqual(r2.stats(), { records: 0, lost: 0, wakeups: 0, batches: 0, rings: 0 });
  } finally {
    for (const r of readers) r.close(); // an open reader's poll handle would keep the process alive
    native.closeObject(obj);
  }
});
