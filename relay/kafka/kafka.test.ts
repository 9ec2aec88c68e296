// Kafka mode end to end against librdkafka's mock cluster: collectors → `flowscope relay
// --kafka-brokers` → topic → `flowscope ingester` → chDB, as separate processes. Every flow is
// stored exactly once; the relay's followers get the flows from the collectors' Observer APIs,
// whatever storage is doing; an ingester
// killed mid-stream resumes from its committed offsets without loss or duplicates; messages
// delivered twice are stored once; a broker taken down and up again loses nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { register } from 'prom-client';
import { buildMockKafka, MockKafka } from '../../testing/kafka-mock-cluster.js';
import { KafkaIngester, DEFAULT_INGESTER_OPTIONS } from './ingester.js';
import { encodeDurableBatch, flowsToBlock } from '../sinks/sink.js';
import { freePort, startProc, waitHealthy, type Proc } from '../../testing/harness.js';
import { ObserverApiClient } from '../../api/client.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from '../../collector/ship/shipper.js';
import { startCollector, type RunningCollector } from '../../collector/main.js';
import { createLogger } from '../../common/logger.js';
import { FlowStore } from '../../storage/index.js';
import type { Flow } from '../../proto/types.js';

const built = buildMockKafka();
const missing = 'missing' in built ? built.missing : undefined;
if (missing && process.env.CI === 'true') throw new Error(`Kafka tests need the mock cluster: ${missing}`);
const skip = missing ? `Kafka mock cluster unavailable (${missing})` : false;

const log = createLogger('test', 'silent');
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-kafka-'));
const now = Math.floor(Date.now() / 1000) - 60;
const flow = (tag: string, node: string, i: number): Flow => ({ uuid: `${tag}-${node}-${i}`, time: { seconds: now, nanos: i }, node_name: node, verdict: 1 });
const GROUP_TIMING = ['--session-timeout', '6000', '--heartbeat-interval', '500'];

let kafka: MockKafka;
let admin: Admin;
before(async () => {
  if (skip) return;
  kafka = await MockKafka.start((built as { bin: string }).bin, 3, { flows: 4, flows2: 4, flows3: 2, flows4: 4, flows5: 2 });
  admin = new Kafka({ clientId: 'test-admin', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
after(async () => {
  await admin?.disconnect();
  await kafka?.stop();
  await fs.rm(dir, { recursive: true, force: true });
});

/** Messages in the topic and messages the group committed, summed over partitions. */
async function progress(topic: string, group: string): Promise<{ high: number; committed: number }> {
  const high = (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
  const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const committed = t.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  return { high, committed };
}

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function storedUuids(chdb: string): Promise<string[]> {
  const store = await FlowStore.open({ path: chdb });
  try {
    const out: string[] = [];
    for await (const f of store.queryFlows({})) out.push(f.uuid!);
    return out;
  } finally {
    await store.close();
  }
}

async function startKafkaRelay(topic: string, extra: string[] = []): Promise<{ relay: Proc; server: string }> {
  const port = await freePort();
  const server = `127.0.0.1:${port}`;
  const relay = startProc([
    'relay',
    '--listen',
    server,
    '--data-dir',
    path.join(dir, `relay-${topic}`, 'chdb'),
    '--kafka-brokers',
    kafka.bootstrap,
    '--kafka-topic',
    topic,
    '--flush-interval',
    '5',
    ...extra,
  ]);
  await waitHealthy(server);
  return { relay, server };
}

function startIngester(topic: string, chdb: string): Proc {
  return startProc(['ingester', '--kafka-brokers', kafka.bootstrap, '--kafka-topic', topic, '--group', `g-${topic}`, '--store', chdb, ...GROUP_TIMING]);
}

function shipperTo(server: string, node: string, maxBatchFlows = 100): Shipper {
  const s = new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxBatchFlows,
      maxBatchDelayMs: 5,
      reconnectMinMs: 50,
      reconnectMaxMs: 200,
      relayAddress: server,
      nodeName: node,
      observerAddress: '',
      version: 't',
    },
    log,
  );
  s.start();
  return s;
}

test("relay → Kafka → ingester → ClickHouse: every flow stored once; the relay's followers get them from the collectors", { skip }, async () => {
  const topic = 'flows';
  const chdb = path.join(dir, 'ingest-1');
  const { relay, server } = await startKafkaRelay(topic);
  const ingester = startIngester(topic, chdb);
  const perNode = 3000;
  const live = new Set<string>();
  let liveFlows = 0;
  const client = new ObserverApiClient(server);
  const abort = new AbortController();
  // A follow of new flows only, opened before any collector: the collectors that appear are
  // followed from when it began (the live path is the same as without Kafka). "New" is from
  // when the relay accepted the call, so the collectors start only then.
  let accepted!: () => void;
  const followOpen = new Promise<void>((r) => (accepted = r));
  const following = client
    .getFlows(
      { follow: true },
      (r) => {
        if (r.flow?.uuid) {
          live.add(r.flow.uuid);
          liveFlows++;
        }
      },
      abort.signal,
      accepted,
    )
    .catch((e: Error) => {
      if (!abort.signal.aborted) throw e;
    });
  await Promise.race([followOpen, following.then(() => assert.fail('the follow ended before the relay accepted it'))]);
  const collectors: RunningCollector[] = [];
  try {
    for (const node of ['1', '2']) {
      collectors.push(
        await startCollector({
          source: { kind: 'synthetic', rate: 3000, seed: Number(node), node, clusterNodes: 4, count: perNode },
          relay: server,
          listen: '127.0.0.1:0',
          ringCapacity: 20_000,
          maxUnackedFlows: 100_000,
        }),
      );
    }
    await Promise.all(collectors.map((c) => c.finished)); // read, shipped and acked once Kafka has them
    const want = collectors.flatMap((c) => [...c.ring.range(0, c.ring.seen)].map((f) => f.uuid!));
    assert.ok(want.length >= 2 * perNode);
    await until('every flow followed', () => live.size >= want.length);
    assert.equal(liveFlows, want.length, 'no duplicate');
    assert.deepStrictEqual([...live].sort(), [...want].sort());
    const high = (await progress(topic, `g-${topic}`)).high;
    await until('ingester committed everything', async () => (await progress(topic, `g-${topic}`)).committed === high);
    for (const c of collectors) await c.stop();
    collectors.length = 0;
  } finally {
    abort.abort();
    await following;
    client.close();
    for (const c of collectors) await c.stop();
    assert.equal(await ingester.stop(), 0, ingester.output());
    assert.equal(await relay.stop(), 0, relay.output());
  }
  const uuids = await storedUuids(chdb);
  assert.equal(uuids.length, live.size, 'each flow stored once');
  assert.deepStrictEqual([...uuids].sort(), [...live].sort());
});

test('an ingester killed mid-stream resumes from its committed offsets: no loss, no duplicate rows', { skip }, async () => {
  const topic = 'flows2';
  const chdb = path.join(dir, 'ingest-2');
  // Small relay batches: many inserts and commits, so the kill lands between them.
  const { relay, server } = await startKafkaRelay(topic, ['--batch-rows', '20']);
  const total = 6_000;
  try {
    const shipper = shipperTo(server, 'node-k', 20); // ≈300 messages, one insert each
    for (let i = 0; i < total; i++) shipper.add(flow('k', 'node-k', i));
    assert.equal(await shipper.drain(30_000), true);
    await shipper.stop();
  } finally {
    assert.equal(await relay.stop(), 0, relay.output());
  }
  const { high } = await progress(topic, `g-${topic}`);
  let ingester = startIngester(topic, chdb);
  await until('some offsets committed', async () => (await progress(topic, `g-${topic}`)).committed > 0);
  ingester.proc.kill('SIGKILL');
  await new Promise((r) => ingester.proc.once('exit', r));
  const atKill = (await progress(topic, `g-${topic}`)).committed;
  assert.ok(atKill < high, `killed mid-stream (${atKill} of ${high} committed)`);
  ingester = startIngester(topic, chdb);
  try {
    await until('the restarted ingester committed everything', async () => (await progress(topic, `g-${topic}`)).committed === high);
  } finally {
    assert.equal(await ingester.stop(), 0, ingester.output());
  }
  const uuids = await storedUuids(chdb);
  assert.equal(uuids.length, total);
  assert.equal(new Set(uuids).size, total);
});

test('batches delivered twice (a relay resending after a restart) are stored once; the lag gauge reaches 0', { skip }, async () => {
  const topic = 'flows3';
  const chdb = path.join(dir, 'ingest-3');
  const producer = new Kafka({ clientId: 'test-producer', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({ maxInFlightRequests: 1 });
  await producer.connect();
  const id0 = Date.now() * 1000;
  const part = (seq: number) => ({
    key: 'node-d',
    value: encodeDurableBatch(
      id0 + seq,
      [flowsToBlock(Array.from({ length: 10 }, (_, i) => flow('d', 'node-d', seq * 10 + i)))],
      [{ session: 'sess-d', node: 'node-d', seq }],
    ),
  });
  // seq 1..5, then a restarted relay produces 4..5 again, then 6; plus one foreign message.
  await producer.send({ topic, acks: -1, messages: [1, 2, 3, 4, 5].map(part) });
  await producer.send({ topic, acks: -1, messages: [4, 5, 6].map(part) });
  await producer.send({ topic, acks: -1, messages: [{ key: 'node-d', value: Buffer.from('not a batch') }] });
  await producer.disconnect();

  const store = await FlowStore.open({ path: chdb });
  const ingester = new KafkaIngester(
    store,
    {
      ...DEFAULT_INGESTER_OPTIONS,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      brokers: kafka.brokers,
      topic,
      groupId: 'g-dup',
      clientId: 'test-ingester',
    },
    log,
  );
  try {
    await ingester.start();
    await until('all messages consumed', () => ingester.stats.messages === 9 && ingester.stats.commits > 0 && ingester.stats.badMessages === 1);
    await until('committed', async () => (await progress(topic, 'g-dup')).committed === 9);
    assert.equal(ingester.stats.duplicateParts, 2);
    assert.equal(ingester.stats.badMessages, 1);
    const uuids: string[] = [];
    for await (const f of store.queryFlows({})) uuids.push(f.uuid!);
    assert.equal(uuids.length, 60);
    assert.equal(new Set(uuids).size, 60);
    assert.equal(await store.durableSeq('sess-d'), 6);
    const lag = await register.getSingleMetric('flowscope_kafka_consumer_lag')!.get();
    const series = lag.values.filter((v) => v.labels.topic === topic);
    assert.ok(series.length > 0, "lag exported for the topic's partitions");
    for (const v of series) assert.equal(v.value, 0);
  } finally {
    await ingester.stop();
    await store.close();
  }
});

test('a broker down and up again while the relay produces: nothing lost, nothing stored twice', { skip }, async () => {
  const topic = 'flows4';
  const chdb = path.join(dir, 'ingest-4');
  const { relay, server } = await startKafkaRelay(topic);
  const ingester = startIngester(topic, chdb);
  const total = 6000;
  try {
    const shipper = shipperTo(server, 'node-f');
    for (let i = 0; i < total / 2; i++) shipper.add(flow('f', 'node-f', i));
    assert.equal(await shipper.drain(30_000), true);
    for (const b of [1, 2, 3]) await kafka.setBroker(b, 'down');
    for (let i = total / 2; i < total; i++) shipper.add(flow('f', 'node-f', i));
    await new Promise((r) => setTimeout(r, 1500));
    for (const b of [1, 2, 3]) await kafka.setBroker(b, 'up');
    assert.equal(await shipper.drain(60_000), true);
    await shipper.stop();
    const { high } = await progress(topic, `g-${topic}`);
    await until('ingester committed everything', async () => (await progress(topic, `g-${topic}`)).committed === high);
  } finally {
    assert.equal(await ingester.stop(), 0, ingester.output());
    assert.equal(await relay.stop(), 0, relay.output());
  }
  assert.match(relay.output(), /ECONNREFUSED/, 'the relay saw the brokers go away');
  const uuids = await storedUuids(chdb);
  assert.equal(new Set(uuids).size, total, 'nothing lost');
  assert.equal(uuids.length, total, 'nothing stored twice');
});

test('relay --kafka-ingest (chDB: one process owns the store): history served by the relay is what it consumed from Kafka', { skip }, async () => {
  const topic = 'flows5';
  const { relay, server } = await startKafkaRelay(topic, ['--kafka-ingest', 'g-in-relay']);
  const total = 2000;
  const client = new ObserverApiClient(server);
  try {
    const shipper = shipperTo(server, 'node-h');
    for (let i = 0; i < total; i++) shipper.add(flow('h', 'node-h', i));
    assert.equal(await shipper.drain(30_000), true);
    await shipper.stop();
    const history = async () => {
      const seen: string[] = [];
      await client.getFlows({ since: { seconds: now - 10, nanos: 0 } }, (r) => {
        if (r.flow?.uuid) seen.push(r.flow.uuid);
      });
      return seen;
    };
    await until('history holds every flow', async () => (await history()).length >= total);
    const seen = await history();
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
  } finally {
    client.close();
    assert.equal(await relay.stop(), 0, relay.output());
  }
});
