// A service that cannot start says why in one line with what to do, on the terminal, with no
// stack trace: a port in use, a data directory another process holds — also through `up`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../testing/harness.js';

/** A port something else listens on; its connections (e.g. `up` probing the relay) are dropped on close. */
async function busyPort(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');

test('relay on a port in use: one line naming the address and the flag', async () => {
  const busy = await busyPort();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-start-'));
  try {
    const r = await run(['relay', '--listen', `127.0.0.1:${busy.port}`, '--data-dir', path.join(dir, 'chdb'), '--metrics-addr', 'none'], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^Error: 127\\.0\\.0\\.1:${busy.port} is already in use .*--listen$`, 'm'));
    noStack(r.stderr);
  } finally {
    await busy.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a data directory held by another process: migrate says which process and what to do', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-start-'));
  try {
    // ClickHouse's own record of the owner, as a running relay leaves it; this test process is alive.
    await fs.writeFile(path.join(dir, 'status'), `PID: ${process.pid}\nStarted at: 2026-01-01 00:00:00\nRevision: 1\n`);
    const r = await run(['migrate', '--store', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^Error: the data directory ${dir} is in use by process ${process.pid} .*--data-dir / --store$`, 'm'));
    assert.doesNotMatch(r.stderr, /DB::Exception/);
    noStack(r.stderr);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test("up with the relay port in use: the terminal shows the relay's reason, and up exits 1", async () => {
  const busy = await busyPort();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-start-'));
  try {
    const r = await run(
      ['up', '--data-dir', dir, '--relay-port', String(busy.port), '--api-port', String(busy.port + 1), '--collectors', '1', '--metrics-port', '29100'],
      { timeoutMs: 90_000 },
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`relay could not run: 127\\.0\\.0\\.1:${busy.port} is already in use`));
  } finally {
    await busy.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
