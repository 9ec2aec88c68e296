import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileSource } from './file.js';
import { RecordFileWriter, recordsToText } from './file-writer.js';
import { SyntheticSource } from './synthetic.js';
import { MonitorDecoder } from '../decode/decoder.js';
import type { RawRecord } from '../source.js';

async function replay(file: string, batchSize?: number): Promise<{ recs: RawRecord[]; src: FileSource }> {
  const recs: RawRecord[] = [];
  const src = new FileSource(file, { batchSize });
  await src.start({ records: (b) => recs.push(...b), lost: () => {} });
  await src.done;
  return { recs, src };
}

test('write then replay: same bytes, exact timestamps into the flow', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-file-'));
  const file = path.join(dir, 'r.jsonl');
  const orig = new SyntheticSource({ seed: 2 }).take(1000, 1_780_000_000_000_000_000);
  const w = new RecordFileWriter(file);
  w.write(orig.slice(0, 600));
  w.write(orig.slice(600));
  await w.close();
  const { recs, src } = await replay(file, 64);
  assert.equal(recs.length, 1000);
  assert.equal(src.badLines, 0);
  assert.deepEqual(
    recs.map((r) => Buffer.from(r.data).toString('hex')),
    orig.map((r) => Buffer.from(r.data).toString('hex')),
  );
  const lines = [JSON.stringify({ time: '2026-11-22T10:00:00.123456789Z', cpu: 1, data: Buffer.from(orig[0].data).toString('hex') })];
  writeFileSync(file, lines.join('\n') + '\n');
  const one = (await replay(file)).recs;
  const f = new MonitorDecoder({ nodeName: 'n' }).decode(one[0])!;
  assert.deepEqual(f.time, { seconds: Date.parse('2026-11-22T10:00:00Z') / 1000, nanos: 123456789 });
  assert.equal(one[0].cpu, 1);
});

test('bad lines are counted and skipped', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-file-'));
  const file = path.join(dir, 'bad.jsonl');
  const good = recordsToText(new SyntheticSource({ seed: 2 }).take(3, 0), false);
  writeFileSync(
    file,
    ['not json', '{"data":"zz"}', '{"data":"0a0"}', '[1]', '{"time":"yesterday","data":"01"}', '{"cpu":"x","data":"01"}', '', good].join('\n'),
  );
  const { recs, src } = await replay(file);
  assert.equal(recs.length, 3);
  assert.equal(src.badLines, 6);
  const before = Date.now() * 1e6;
  assert.ok(Math.abs(recs[0].timeNs - before) < 60e9);
  const missing = new FileSource(path.join(dir, 'nope.jsonl'));
  await missing.start({ records: () => {}, lost: () => {} });
  await missing.done;
  assert.equal(missing.badLines, 1);
});
