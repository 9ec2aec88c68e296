import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { chdbInserter } from './rowbinary-insert.js';

test('insert directories of dead processes are removed; live ones are kept', async () => {
  const parent = process.platform === 'linux' ? '/dev/shm' : os.tmpdir();
  // 2^22 + 1 is above Linux's largest possible pid_max, so no process has it; a live pid: our parent.
  const dead = fs.mkdtempSync(path.join(parent, 'flowscope-insert-4194305-'));
  const live = fs.mkdtempSync(path.join(parent, `flowscope-insert-${process.ppid}-`));
  fs.writeFileSync(path.join(dead, 'x.rowbinary'), 'x');
  const ins = await chdbInserter({} as ClickHouseClient);
  try {
    assert.equal(fs.existsSync(dead), false, "a dead process's directory is removed");
    assert.equal(fs.existsSync(live), true, "a live process's directory stays");
  } finally {
    await ins.close();
    fs.rmSync(live, { recursive: true, force: true });
    fs.rmSync(dead, { recursive: true, force: true });
  }
});
