import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openInsertFiles } from './insert-io.js';

test('insert files: each use sees exactly its own bytes, files are reused, a failed use drops its file', async () => {
  const files = await openInsertFiles('bin');
  const seen: string[] = [];
  const read = async (f: string) => {
    seen.push(f);
    return fs.readFileSync(f);
  };
  const long = [Buffer.alloc(5000, 1), Buffer.alloc(3000, 2)];
  assert.deepEqual(await files.withFile(long, read), Buffer.concat(long));
  // Shorter than the last write to the same file: nothing of the previous bytes is left.
  assert.deepEqual(await files.withFile([Buffer.from('abc')], read), Buffer.from('abc'));
  assert.equal(seen[1], seen[0], 'the file was reused');

  // Overlapping inserts never share a file.
  const both = await Promise.all([files.withFile([Buffer.from('x')], async (f) => f), files.withFile([Buffer.from('y')], async (f) => f)]);
  assert.notEqual(both[0], both[1]);

  await assert.rejects(
    files.withFile([Buffer.from('z')], async (f) => {
      seen.push(f);
      throw new Error('insert failed');
    }),
    /insert failed/,
  );
  assert.equal(fs.existsSync(seen[seen.length - 1]), false, 'a file a failed call used is removed, not reused');
  const dir = path.dirname(seen[0]);
  await files.close();
  assert.equal(fs.existsSync(dir), false, 'close removes the directory');
});
