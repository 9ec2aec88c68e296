import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, goFixed, goPathJoin, goQuote, roundToSecondNs, uint64Grouping } from './go-format.js';
import { TabWriter } from './tabwriter.js';

test('goFixed rounds exact ties to even like fmt %.2f', () => {
  assert.equal(goFixed(0.125, 2), '0.12');
  assert.equal(goFixed(0.375, 2), '0.38');
  assert.equal(goFixed(2.5, 0), '2');
  assert.equal(goFixed(1.005, 2), '1.00'); // 1.005 is below the tie in binary
  assert.equal(goFixed(331.4711, 2), '331.47');
  assert.equal(goFixed(100, 2), '100.00');
});

test('goDuration matches time.Duration.String', () => {
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(999), '999ns');
  assert.equal(goDuration(1500), '1.5µs');
  assert.equal(goDuration(1_200_000), '1.2ms');
  assert.equal(goDuration(100_000_000_000), '1m40s');
  assert.equal(goDuration(3_600_000_000_000), '1h0m0s');
  assert.equal(goDuration(-90_000_000_000), '-1m30s');
  assert.equal(roundToSecondNs(59_500_000_000), 60_000_000_000);
  assert.equal(roundToSecondNs(59_499_999_999), 59_000_000_000);
});

test('grouping, quoting, path joining', () => {
  assert.equal(uint64Grouping(999), '999');
  assert.equal(uint64Grouping(1000000), '1,000,000');
  assert.equal(goQuote('a"b\\c\n\x1b é'), '"a\\"b\\\\c\\n\\x1b é"');
  assert.equal(goPathJoin('', 'pod'), 'pod');
  assert.equal(goPathJoin('ns', 'pod'), 'ns/pod');
  assert.equal(goPathJoin('ns', '../x'), 'x');
});

test('tabwriter pads columns per block and flushes on single-cell lines', () => {
  let out = '';
  const tw = new TabWriter((s) => {
    out += s;
  });
  tw.write('a\tbb\tc\nlonger\tx\ty\n');
  assert.equal(out, ''); // buffered until flush
  tw.write('single line\n');
  assert.equal(out, 'a        bb   c\nlonger   x    y\nsingle line\n');
  tw.write('é\tz\n\tq\n');
  tw.flush();
  assert.equal(out, 'a        bb   c\nlonger   x    y\nsingle line\né   z\n    q\n');
});
