import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { COLLECTOR_NODE_FLAGS, missingCollectorNodeFlags } from './node-flags.js';

test('collector node flags: this node accepts them and they bound the young generation', () => {
  // Short-lived garbage at a collector's pace: with V8's defaults the new space grows to 32 MB.
  const script = `
    let keep = 0;
    for (let i = 0; i < 3e6; i++) keep += ({ a: i, b: [i, i + 1], c: 'x' + i }).b.length;
    const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    console.log(JSON.stringify({ newSpace: s.space_size, keep }));`;
  const run = (flags: readonly string[]) => {
    const r = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { newSpace: number };
  };
  const withFlags = run(COLLECTOR_NODE_FLAGS);
  // Two semi-spaces of at most 4 MB each.
  assert.ok(withFlags.newSpace <= 8 * 1024 ** 2, `new space ${withFlags.newSpace} bytes`);
});

test('collector node flags: which ones a process was started without', () => {
  assert.deepEqual(missingCollectorNodeFlags([...COLLECTOR_NODE_FLAGS]), []);
  assert.deepEqual(missingCollectorNodeFlags([]), [...COLLECTOR_NODE_FLAGS]);
  // V8 spells its flags with dashes or underscores.
  assert.deepEqual(missingCollectorNodeFlags(COLLECTOR_NODE_FLAGS.map((f) => '--' + f.slice(2).replace(/-/g, '_'))), []);
  assert.deepEqual(missingCollectorNodeFlags(['--max-semi-space-size=16', COLLECTOR_NODE_FLAGS[1]]), [COLLECTOR_NODE_FLAGS[0]]);
});
