// `flowscope export` and `flowscope migrate` as a user runs them (separate processes): export
// from a chDB store and from a running relay gives the same lines, those lines read back through
// `observe --input-file -o jsonpb` byte for byte, filters narrow both the same way, bad usage
// exits 2; migrate applies once and then nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FlowStore } from '../../storage/index.js';
import { genFlows } from '../../testing/gen-flows.js';
import { MIGRATIONS } from '../../storage/migrations.js';
import { freePort, run, startProc, waitHealthy } from '../../testing/harness.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-export-'));
const chdb = path.join(dir, 'chdb');
const base = Math.floor(Date.now() / 1000) - 1800;
const flows = genFlows(2000, 11, base);
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
const since = iso(base - 60);
const until = iso(base + 3600);

before(async () => {
  const store = await FlowStore.open({ path: chdb });
  await store.insert(flows, [], 1);
  await store.close();
});
after(() => fs.rm(dir, { recursive: true, force: true }));

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

test('export from the store round-trips through observe --input-file byte for byte; the relay exports the same', async () => {
  const fromStore = await run(['export', '--store', chdb, '--since', since, '--until', until], { timeoutMs: 60_000 });
  assert.equal(fromStore.code, 0, fromStore.stderr);
  assert.equal(lines(fromStore.stdout).length, flows.length);
  for (const l of lines(fromStore.stdout)) assert.ok(JSON.parse(l).flow, 'each line is a GetFlowsResponse with a flow');
  const file = path.join(dir, 'export.jsonl');
  await fs.writeFile(file, fromStore.stdout);
  const back = await run(['observe', '--input-file', file, '-o', 'jsonpb'], { timeoutMs: 60_000 });
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout, fromStore.stdout);

  const dropped = await run(['export', '--store', chdb, '--since', since, '--until', until, '--verdict', 'DROPPED', '--not', '--protocol', 'udp'], {
    timeoutMs: 60_000,
  });
  assert.equal(dropped.code, 0, dropped.stderr);
  const viaFile = await run(['observe', '--input-file', file, '-o', 'jsonpb', '--verdict', 'DROPPED', '--not', '--protocol', 'udp'], { timeoutMs: 60_000 });
  assert.ok(lines(dropped.stdout).length > 0 && lines(dropped.stdout).length < flows.length);
  assert.equal(dropped.stdout, viaFile.stdout, 'store-side SQL filters select what the file-side predicates select');

  const port = await freePort();
  const relay = startProc(['relay', '--listen', `127.0.0.1:${port}`, '--data-dir', chdb]);
  try {
    await waitHealthy(`127.0.0.1:${port}`);
    const fromRelay = await run(['export', '--server', `127.0.0.1:${port}`, '--since', since, '--until', until], { timeoutMs: 60_000 });
    assert.equal(fromRelay.code, 0, fromRelay.stderr);
    assert.equal(fromRelay.stdout, fromStore.stdout);
    const droppedRelay = await run(
      ['export', '--server', `127.0.0.1:${port}`, '--since', since, '--until', until, '--verdict', 'DROPPED', '--not', '--protocol', 'udp'],
      { timeoutMs: 60_000 },
    );
    assert.equal(droppedRelay.stdout, dropped.stdout);
  } finally {
    assert.equal(await relay.stop(), 0);
  }
});

test('export, migrate, ingester, relay Kafka flags: bad usage exits 2 with a message', async () => {
  for (const args of [
    ['export', '--store', chdb], // no --since
    ['export', '--store', chdb, '--since', since, '-o', 'table'], // not jsonpb
    ['export', '--store', chdb, '--since', since, '--follow'],
    ['export', '--store', chdb, '--since', 'yesterday-ish'],
    ['export', '--store', 'ftp://host/x', '--since', since],
    ['export', '--store', chdb, '--since', since, '--verdict', 'MAYBE'],
    ['export', '--store', chdb, '--since', since, '--no-such-flag'],
    ['migrate', '--retention-days', '0', '--store', chdb],
    ['ingester', '--store', chdb], // no brokers
    ['ingester', '--kafka-brokers', 'bad broker', '--store', chdb],
    ['relay', '--kafka-ingest', '--data-dir', chdb], // in-relay ingester without Kafka
    ['relay', '--kafka-brokers', '127.0.0.1:9', '--kafka-compression', 'zstd', '--data-dir', chdb],
  ]) {
    const r = await run(args, { timeoutMs: 60_000 });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^Error: .+\n\nRun 'flowscope \w+ --help' for usage\.\n$/);
    assert.equal(r.stdout, '');
  }
});

test('migrate applies the migrations once, then nothing; the store opens on the result', async () => {
  const fresh = path.join(dir, 'fresh');
  const first = await run(['migrate', '--store', fresh], { timeoutMs: 60_000 });
  assert.equal(first.code, 0, first.stderr);
  const latest = Math.max(...MIGRATIONS.map((m) => m.version));
  const applied = MIGRATIONS.map((m) => `applied migration ${m.version}: ${m.name}\n`).join('');
  assert.equal(first.stdout, `${applied}chdb:${fresh}: schema at version ${latest}\n`);
  const again = await run(['migrate', '--store', fresh], { timeoutMs: 60_000 });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `chdb:${fresh}: schema up to date (version ${latest}), nothing applied\n`);
  assert.doesNotMatch(again.stdout, /applied migration/);
  const store = await FlowStore.open({ path: fresh });
  try {
    await store.insert(flows.slice(0, 5), [], 2);
    assert.equal(await store.countFlows(), 5);
  } finally {
    await store.close();
  }
});
