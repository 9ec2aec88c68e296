// The storage server against the real client: what flowscope sends (bound parameters of every
// shape, settings, Native inserts through input(), JSON inserts, streamed reads), ClickHouse-style
// errors, an insert whose client went away before its body was complete, and the insert fence.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { StorageServer, DEFAULT_STORAGE_SERVER_OPTIONS, insertFromFile, bindValue, Pool } from './http-server.js';
import { FlowStore, FencedError } from './store.js';
import { migrate } from './migrations.js';
import { createSharedTables } from './shared.js';
import { genFlows } from '../testing/gen-flows.js';
import { FlowBlockWriter } from '../schema/native/flow-block.js';
import { createLogger } from '../common/logger.js';
import { waitFor } from '../testing/harness.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-storage-server-'));
let server: StorageServer;
let client: ClickHouseClient;
let url = '';
let stopped = false;

before(async () => {
  server = await StorageServer.start({ ...DEFAULT_STORAGE_SERVER_OPTIONS, dataDir: path.join(root, 'chdb'), listen: '127.0.0.1:0' }, createLogger('test'));
  url = `http://127.0.0.1:${server.port}`;
  client = createClient({ url, clickhouse_settings: { output_format_json_quote_64bit_integers: 1 } });
  await migrate(client, { retentionDays: 7 });
  await createSharedTables(client);
});
after(async () => {
  await client.close();
  if (!stopped) await server.stop();
  await fs.rm(root, { recursive: true, force: true });
});

test('bound parameters keep their values: strings with quotes, tabs and backslashes, arrays, big integers', async () => {
  const s = "it's a\ttab \\ back\nslash";
  const arr = ["o'k", 'x\\y', '[not]', ''];
  const rs = await client.query({
    query: 'SELECT {s:String} AS s, {a:Array(String)} AS a, {n:UInt64} AS n, {b:String} AS b, {e:Array(UInt64)} AS e',
    query_params: { s, a: arr, n: '18446744073709551615', b: '[1.0]', e: [] },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ s: string; a: string[]; n: string; b: string; e: string[] }>();
  assert.equal(row.s, s);
  assert.deepEqual(row.a, arr);
  assert.equal(row.n, '18446744073709551615');
  assert.equal(row.e.length, 0);
  // A settings value applies to its request only (the session goes back to the default).
  const rs2 = await client.query({
    query: 'SELECT toUInt64(7) AS x',
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  assert.deepEqual(await rs2.json(), [{ x: 7 }]);
  const raw = await fetch(`${url}/?default_format=JSONEachRow`, { method: 'POST', body: 'SELECT toUInt64(7) AS x' });
  assert.equal((await raw.text()).trim(), '{"x":7}');
});

test('bindValue: a composite literal is parsed, anything else unescaped', () => {
  assert.deepEqual(bindValue("['a','b\\'c']"), ['a', "b'c"]);
  assert.equal(bindValue('a\\tb'), 'a\tb');
  assert.equal(bindValue("[\\'x\\']"), "['x']");
  assert.throws(() => insertFromFile('SELECT 1', '/tmp/x'), /FORMAT/);
  assert.match(insertFromFile("INSERT INTO t (a) SELECT * FROM input('a String') FORMAT Native", '/tmp/f'), /FROM file\('\/tmp\/f', 'Native', 'a String'\)$/);
});

test('errors come back as ClickHouse errors with their code', async () => {
  await assert.rejects(client.query({ query: 'SELECT * FROM no_such_table' }), (e: Error & { code?: string }) => e.code === '60');
  const r = await fetch(`${url}/?query=INSERT+INTO+flows+FORMAT+Native`, { method: 'POST', body: Buffer.alloc(10), headers: { 'content-encoding': 'gzip' } });
  assert.equal(r.status, 400);
  assert.equal(r.headers.get('x-clickhouse-exception-code'), '36');
});

test('streamed reads, JSON inserts and commands', async () => {
  await client.command({ query: 'CREATE TABLE kv (k String, v UInt64) ENGINE = MergeTree ORDER BY k' });
  await client.insert({
    table: 'kv',
    values: [
      ['a', 1],
      ['b', 2],
    ],
    format: 'JSONCompactEachRow',
    columns: ['k', 'v'],
  });
  const rs = await client.query({ query: 'SELECT number FROM numbers(300000)', format: 'JSONCompactEachRow' });
  let n = 0;
  for await (const rows of rs.stream()) n += rows.length;
  assert.equal(n, 300000);
  const kv = await client.query({ query: 'SELECT k, v FROM kv ORDER BY k', format: 'JSONCompactEachRow' });
  assert.deepEqual(await kv.json(), [
    ['a', '1'],
    ['b', '2'],
  ]);
});

test('an insert whose client goes away before the body is complete never runs', async () => {
  const w = new FlowBlockWriter();
  for (const f of genFlows(500, 3, Math.floor(Date.now() / 1000))) w.add(f);
  const block = w.finish();
  const before = server.stats.abandonedInserts;
  const q = encodeURIComponent("INSERT INTO flows SELECT * FROM input('x String') FORMAT Native");
  await new Promise<void>((resolve) => {
    const req = http.request(`${url}/?query=${q}`, { method: 'POST', headers: { 'content-length': String(block.length) } });
    req.on('error', () => resolve());
    req.write(block.subarray(0, block.length >> 1), () => setImmediate(() => req.destroy()));
    req.on('close', () => resolve());
  });
  const deadline = Date.now() + 30_000;
  while (server.stats.abandonedInserts === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.stats.abandonedInserts, before + 1);
  const rs = await client.query({ query: 'SELECT count() FROM flows', format: 'JSONCompactEachRow' });
  assert.deepEqual(await rs.json(), [['0']]);
});

test('fence: after another relay claimed a session, an insert carrying it stores nothing', async () => {
  const conn = { kind: 'server' as const, url };
  const a = await FlowStore.open({ connection: conn, sharedRelayId: 'relay-a' });
  const b = await FlowStore.open({ connection: conn, sharedRelayId: 'relay-b' });
  try {
    const block = (seed: number) => {
      const w = new FlowBlockWriter();
      for (const f of genFlows(100, seed, Math.floor(Date.now() / 1000))) w.add(f);
      return w.finish();
    };
    await a.claimSession('s1');
    await a.claimSession('s2');
    await a.insertBlocks([block(1)], [{ session: 's1', node: 'n1', seq: 1 }], 1_000_001, { fence: true });
    assert.equal(await b.durableSeq('s1'), 1);
    await b.claimSession('s1');
    await assert.rejects(
      a.insertBlocks(
        [block(2), block(3)],
        [
          { session: 's1', node: 'n1', seq: 2 },
          { session: 's2', node: 'n2', seq: 1 },
        ],
        1_000_002,
        { fence: true },
      ),
      (e: unknown) => e instanceof FencedError && e.sessions.join() === 's1',
    );
    assert.equal(await a.countFlows(), 100);
    assert.equal(await b.durableSeq('s1'), 1);
    // The other session of that insert still goes in; the new owner stores its own.
    await a.insertBlocks([block(3)], [{ session: 's2', node: 'n2', seq: 1 }], 1_000_003, { fence: true });
    await b.insertBlocks([block(2)], [{ session: 's1', node: 'n1', seq: 2 }], 1_000_004, { fence: true });
    assert.equal(await b.countFlows(), 300);
    assert.equal(await b.durableSeq('s1'), 2);
    assert.equal(await b.durableSeq('s2'), 1);
    // Registrations: each relay's collectors, the latest per node.
    await a.writeRegistrations([{ node: 'n2', session: 's2', observerAddress: '10.0.0.2:4244', version: 'v', connected: true, connectedAtMs: 5 }]);
    await b.writeRegistrations([{ node: 'n1', session: 's1', observerAddress: "o'k:1", version: 'v', connected: true, connectedAtMs: 6 }]);
    const regs = await a.readRegistrations(60_000);
    assert.deepEqual(
      regs.map((r) => [r.node, r.relay, r.observerAddress, r.connected, r.connectedAtMs]),
      [
        ['n1', 'relay-b', "o'k:1", true, 6],
        ['n2', 'relay-a', '10.0.0.2:4244', true, 5],
      ],
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('Pool: a waiter whose client went away leaves the queue; the session goes to the next one', async () => {
  const pool = new Pool(['s'], 2);
  const first = await pool.acquire();
  const gone = new AbortController();
  const a = pool.acquire(gone.signal);
  const b = pool.acquire();
  await assert.rejects(pool.acquire(), /too many queued/);
  gone.abort();
  await assert.rejects(a, /went away/);
  assert.equal(pool.queued, 1);
  assert.equal(pool.cancelled, 1);
  // Its place is free again.
  const c = pool.acquire();
  pool.release(first);
  assert.equal(await b, 's');
  pool.release('s');
  assert.equal(await c, 's');
  await assert.rejects(pool.acquire(AbortSignal.abort()), /went away/);
});

test('a write whose client went away while it waited for the write session never runs', async () => {
  const writer = (server as unknown as { writer: Pool<unknown> }).writer;
  const held = await writer.acquire();
  const before = server.stats.cancelled;
  const gone = new AbortController();
  const sent = fetch(url, { method: 'POST', body: 'CREATE TABLE cancelled_probe (x UInt8) ENGINE = Memory', signal: gone.signal }).catch(() => undefined);
  try {
    await waitFor('the write queued', async () => (server.queued === 1 ? true : undefined));
    gone.abort();
    await waitFor('the write dropped', async () => (server.stats.cancelled === before + 1 ? true : undefined));
  } finally {
    writer.release(held);
  }
  await sent;
  const rs = await client.query({ query: "SELECT count() FROM system.tables WHERE name = 'cancelled_probe'", format: 'JSONCompactEachRow' });
  assert.deepEqual(await rs.json(), [['0']]);
  await client.command({ query: 'CREATE TABLE after_cancel (x UInt8) ENGINE = Memory' });
});

test('settings apply to their request only, also after a request with a bad one; SET is refused', async () => {
  await client.command({ query: 'CREATE TABLE seen_settings (n UInt32, v String) ENGINE = Memory' });
  const record = (n: number, settings: ClickHouseSettings = {}) =>
    client.command({ query: `INSERT INTO seen_settings SELECT ${n}, toString(getSetting('max_block_size'))`, clickhouse_settings: settings });
  await record(1, { max_block_size: '1234' });
  await record(2);
  await record(3, { max_block_size: '1234', max_threads: 1 });
  await assert.rejects(record(4, { max_block_size: 'not-a-number' }));
  await record(5);
  const rs = await client.query({ query: 'SELECT n, v FROM seen_settings ORDER BY n', format: 'JSONCompactEachRow' });
  const got = await rs.json<[number, string]>();
  const dflt = got.find(([n]) => n === 2)![1];
  assert.notEqual(dflt, '1234');
  assert.deepEqual(got, [
    [1, '1234'],
    [2, dflt],
    [3, '1234'],
    [5, dflt],
  ]);
  const r = await fetch(url, { method: 'POST', body: 'SET max_block_size = 7' });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /URL parameters/);
});

// Last: it stops the server.
test('stop() returns while clients keep connections open', async () => {
  // The client keeps its connection alive after this request.
  await (await client.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json();
  stopped = true;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    server.stop(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('stop() did not return with a client connected')), 60_000);
    }),
  ]).finally(() => clearTimeout(timer));
});
