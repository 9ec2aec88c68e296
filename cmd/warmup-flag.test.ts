// `flowscope collector --warmup-records`: its default, its environment variable, and a bad
// value exits 2 naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../testing/harness.js';
import { buildProgram } from './main.js';
import { DEFAULT_WARMUP_RECORDS } from '../collector/warmup.js';

test('collector --warmup-records: default, environment, and a bad value exits 2', async () => {
  const parse = async (args: string[]): Promise<number> => {
    const program = buildProgram();
    const cmd = program.commands.find((c) => c.name() === 'collector')!;
    let n = -1;
    cmd.action((o: { warmupRecords: number }) => {
      n = o.warmupRecords;
    });
    await program.parseAsync(['node', 'flowscope', 'collector', ...args]);
    return n;
  };
  assert.equal(await parse([]), DEFAULT_WARMUP_RECORDS);
  assert.equal(await parse(['--warmup-records', '0']), 0);
  process.env.FLOWSCOPE_WARMUP_RECORDS = '5000';
  try {
    assert.equal(await parse([]), 5000);
  } finally {
    delete process.env.FLOWSCOPE_WARMUP_RECORDS;
  }
  const r = await run(['collector', '--relay', 'none', '--listen', '127.0.0.1:0', '--metrics-addr', 'none', '--warmup-records', '-5']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /warmup-records/);
});
