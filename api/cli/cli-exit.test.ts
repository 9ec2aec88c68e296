// How the `flowscope` executable ends, as a user sees it: usage mistakes exit 2 with a hint that
// names a real command, and a reader that goes away (`| head`) ends it quietly with 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BIN, run } from '../../testing/harness.js';

test('a command group without its subcommand prints its usage and exits 2', async () => {
  for (const group of ['top', 'list']) {
    const r = await run([group]);
    assert.equal(r.code, 2, group);
    assert.match(r.stderr, new RegExp(`Usage: flowscope ${group} `), group);
  }
});

test('an unknown command exits 2 and the hint names a command that exists', async () => {
  const r = await run(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  assert.match(r.stderr, /Run 'flowscope --help' for usage/);
  const sub = await run(['top', 'drops', '--bogus']);
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /Run 'flowscope top drops --help' for usage/);
});

test('observe | head: the closed pipe ends the command with 0 and nothing on stderr', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-epipe-'));
  try {
    // Far more output than a pipe buffers, so writes continue after the reader has gone.
    const line = (i: number) =>
      JSON.stringify({
        flow: { time: '2026-01-01T00:00:00Z', uuid: `u${i}`, verdict: 'FORWARDED', IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' } },
      });
    const file = path.join(dir, 'flows.jsonl');
    await fs.writeFile(file, Array.from({ length: 50_000 }, (_, i) => line(i)).join('\n') + '\n');
    const child = spawn(process.execPath, [BIN, 'observe', '--input-file', file, '--all', '-o', 'compact'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    // Like `head -1`: read one chunk, then close the reading end.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a server nobody answers at: one line saying what to check, no empty gRPC notes', async () => {
  for (const args of [
    ['observe', '--server', '127.0.0.1:1', '--last', '1'],
    ['status', '--server', '127.0.0.1:1'],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /^Error: failed to .* 127\.0\.0\.1:1: cannot reach 127\.0\.0\.1:1: nothing answers there — is the relay running/m);
    assert.doesNotMatch(r.stderr, /Resolution note/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('collector --relay: an address that is not host:port exits 2 naming the flag and the entry', async () => {
  for (const v of ['relay', 'relay:4245,other', 'tls://relay:0', 'relay:99999']) {
    const r = await run(['collector', '--relay', v]);
    assert.equal(r.code, 2, v);
    assert.match(r.stderr, new RegExp(`invalid value "${v}" for --relay: relay address "[^"]+" is not host:port`), v);
  }
});

test('collector --drain-timeout: a value that is not a number of milliseconds exits 2 naming the flag', async () => {
  for (const v of ['soon', '-1', '3600001']) {
    const r = await run(['collector', '--relay', 'none', '--drain-timeout', v]);
    assert.equal(r.code, 2, v);
    assert.match(r.stderr, new RegExp(`invalid value "${v}" for --drain-timeout`), v);
  }
});
