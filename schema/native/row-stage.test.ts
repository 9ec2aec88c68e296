import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NativeBlockWriter } from './writer.js';
import { RowStage, StagedRowSink } from './row-stage.js';
import { ALL_TYPES, randomRows, blockOf, type Row } from '../../testing/native-test-rows.js';

/** The rows staged through a RowStage (moved into the columns every `capacity` rows). */
function stagedBlock(rows: readonly Row[], capacity: number): Buffer {
  const w = new NativeBlockWriter(ALL_TYPES);
  const stage = new RowStage(w, capacity);
  const sink = new StagedRowSink(stage, w.buffers());
  for (const x of rows) {
    sink.begin();
    sink.u32(x.i);
    sink.u8(x.u8);
    sink.u16(x.u16);
    sink.u32(x.u32);
    sink.u64(x.u64);
    sink.i32(x.i32);
    sink.timeNs(x.t[0], x.t[1]);
    sink.ipv6(x.ip);
    sink.str(x.s);
    sink.str(x.lc);
    sink.strArray(x.a_s);
    sink.strArray(x.a_lc);
    sink.u64Array(x.a_u64);
    sink.strArray([]);
    stage.commit();
  }
  stage.flush();
  return w.finish();
}

test('staged rows give the bytes of rows appended value by value, for every type', () => {
  for (const [n, seed, capacity] of [
    [1, 1, 256],
    [255, 2, 256],
    [256, 3, 256],
    [257, 4, 256],
    [1000, 5, 7],
    [800, 6, 1000],
  ]) {
    const rows = randomRows(n, seed);
    assert.ok(stagedBlock(rows, capacity).equals(blockOf(rows)), `${n} rows, stage of ${capacity}`);
  }
  // Few distinct dictionary values: long runs of repeats and of the previous row's arrays.
  const rows = randomRows(3000, 7, { distinct: 3 });
  assert.ok(stagedBlock(rows, 256).equals(blockOf(rows)));
});

test('a staged value is checked where it is staged', () => {
  const w = new NativeBlockWriter(ALL_TYPES);
  const sink = new StagedRowSink(new RowStage(w), w.buffers());
  sink.begin();
  assert.throws(() => sink.u8(1), /u8\(\) writes UInt8, column i is UInt32/);
  sink.begin();
  sink.u32(0);
  sink.u8(0);
  sink.u16(0);
  sink.u32(0);
  assert.throws(() => sink.u64(2 ** 53), RangeError);
  sink.begin();
  for (let i = 0; i < 6; i++) sink.col++;
  assert.throws(() => sink.timeNs(-1, 0), RangeError);
  sink.begin();
  for (let i = 0; i < 7; i++) sink.col++;
  assert.throws(() => sink.ipv6(new Uint8Array(4)), RangeError);
  assert.throws(() => sink.str(5 as unknown as string), TypeError);
  sink.begin();
  for (let i = 0; i < 10; i++) sink.col++;
  assert.throws(() => sink.strArray(['a', undefined as unknown as string]), TypeError);
});
