// A relay in shared-store mode over an in-memory store that keeps session claims and fences
// inserts the way storage/shared.ts does: a batch refused because another relay claimed one of
// its sessions (that session's parts dropped unacknowledged and its stream closed, the rest
// stored), a collector that reconnects while its batches are still being inserted, and
// registration rounds that never overlap on a slow store, and history that includes what the
// other relays stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Relay } from '../relay.js';
import { ClickHouseSink } from '../sinks/clickhouse-sink.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from '../../collector/ship/shipper.js';
import { createLogger } from '../../common/logger.js';
import { FencedError, type IngestMark, type NodeRegistration } from '../../storage/index.js';
import type { Flow } from '../../proto/types.js';
import { MemoryRelayStore } from '../../testing/memory-relay-store.js';
import { waitFor } from '../../testing/harness.js';
import { ObserverApiClient } from '../../api/client.js';
import { FlowBlockWriter } from '../../schema/native/flow-block.js';

const log = createLogger('test', 'silent');

/** MemoryRelayStore with ingest_claims: this relay is 'me'; a test moves a session to 'other'. */
class ClaimingStore extends MemoryRelayStore {
  readonly claims = new Map<string, string>();
  claimCalls = 0;
  durableSeqCalls = 0;
  /** Sessions of every insert refused by the fence. */
  readonly fenced: string[][] = [];
  /** While set, inserts wait for it (`held` counts the waiting ones). */
  gate: Promise<void> | null = null;
  held = 0;
  async claimSession(session: string): Promise<void> {
    this.claimCalls++;
    this.claims.set(session, 'me');
  }
  override async insertBlocks(blocks: readonly Buffer[], progress: readonly IngestMark[], batchId: number, opts?: { fence?: boolean }): Promise<void> {
    if (this.gate) {
      this.held++;
      await this.gate;
      this.held--;
    }
    if (opts?.fence) {
      const sessions = [...new Set(progress.map((m) => m.session))];
      const lost = sessions.filter((s) => (this.claims.get(s) ?? 'me') !== 'me');
      if (lost.length > 0) {
        this.fenced.push(sessions);
        throw new FencedError(lost);
      }
    }
    return super.insertBlocks(blocks, progress, batchId);
  }
  override async durableSeq(session: string): Promise<number> {
    this.durableSeqCalls++;
    return super.durableSeq(session);
  }
  async writeRegistrations(): Promise<void> {}
  async readRegistrations(): Promise<NodeRegistration[]> {
    return [];
  }
}

function gate(store: ClaimingStore): () => void {
  let open!: () => void;
  store.gate = new Promise<void>((r) => (open = r));
  return () => {
    store.gate = null;
    open();
  };
}

async function startRelay(store: MemoryRelayStore, shared = { registrationIntervalMs: 50, staleAfterMs: 1000 }): Promise<Relay> {
  const relay = new Relay(
    store,
    {
      listen: '127.0.0.1:0',
      nodeName: 'relay',
      sink: new ClickHouseSink(store, true),
      shared,
      batcher: { flushIntervalMs: 20, retryMinMs: 10, retryMaxMs: 50 },
    },
    log,
  );
  await relay.start();
  return relay;
}

function shipperFor(relay: Relay, node: string): Shipper {
  const s = new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxBatchFlows: 50,
      maxBatchDelayMs: 5,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
      relayAddress: `127.0.0.1:${relay.port}`,
      nodeName: node,
      observerAddress: '',
      version: 't',
    },
    log,
  );
  void s.start();
  return s;
}

let next = 0;
function ship(s: Shipper, node: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const k = next++;
    s.add({ uuid: `u${k}`, time: { seconds: Math.floor(Date.now() / 1000), nanos: k }, node_name: node } satisfies Flow);
  }
  s.flush();
}

test('a fenced batch: the claimed session is dropped unacknowledged and its stream closed, the others are stored', async () => {
  const store = new ClaimingStore();
  const relay = await startRelay(store);
  const a = shipperFor(relay, 'a');
  const b = shipperFor(relay, 'b');
  try {
    ship(a, 'a', 100);
    ship(b, 'b', 100);
    assert.equal(await a.drain(20_000), true);
    assert.equal(await b.drain(20_000), true);
    assert.equal(store.claims.get(a.session), 'me');

    // One insert held with only b's flow in it; a's and b's next flows wait for the next insert.
    const open = gate(store);
    ship(b, 'b', 1);
    await waitFor('an insert held', async () => (store.held === 1 ? true : undefined));
    ship(a, 'a', 200);
    ship(b, 'b', 200);
    await waitFor('every flow at the relay', async () => (relay.batcher.pending === 401 ? true : undefined));
    // Another relay takes a's session (its collector resumed there, as far as storage knows).
    store.claims.set(a.session, 'other');
    const reconnectsBefore = a.stats.reconnects;
    open();

    // a's stream is closed; a comes back (here: the same relay claims it again) and resends.
    assert.equal(await b.drain(20_000), true);
    assert.equal(await a.drain(20_000), true);
    assert.deepEqual(
      store.fenced.map((s) => [...s].sort()),
      [[a.session, b.session].sort()],
      'one insert refused, with both sessions in it',
    );
    assert.ok(relay.batcher.fencedParts >= 1);
    assert.ok(a.stats.reconnects > reconnectsBefore, "a's stream was closed");
    assert.equal(b.stats.reconnects, 0, "b's stream went on");
    const uuids = store.rows.map((r) => r.flow.uuid);
    assert.equal(uuids.length, 601, 'every flow stored');
    assert.equal(new Set(uuids).size, 601, 'none stored twice');
    assert.equal(a.stats.flowsAcked, 300);
    assert.equal(b.stats.flowsAcked, 301);
  } finally {
    await a.stop();
    await b.stop();
    await relay.stop();
  }
});

test('a collector reconnecting while its batches are still being inserted resumes after them', async () => {
  const store = new ClaimingStore();
  const relay = await startRelay(store);
  const a = shipperFor(relay, 'a');
  try {
    ship(a, 'a', 20);
    assert.equal(await a.drain(20_000), true);
    const open = gate(store);
    ship(a, 'a', 50);
    await waitFor('an insert of a held', async () => (store.held === 1 ? true : undefined));
    // The stream breaks (as when the relay closes it) while those 50 flows are being inserted.
    // The insert is let go once the relay either read a's resume point (too early: those 50
    // flows are not stored yet) or waits for that insert before reading it.
    let settling = 0;
    const settled = relay.batcher.settled.bind(relay.batcher);
    relay.batcher.settled = (s) => {
      settling++;
      return settled(s);
    };
    const reads = store.durableSeqCalls;
    relay.ingest.release([a.session]);
    await waitFor("a's new stream asking for its resume point", async () => (settling > 0 || store.durableSeqCalls > reads ? true : undefined));
    open();
    assert.equal(await a.drain(20_000), true);
    const uuids = store.rows.map((r) => r.flow.uuid);
    assert.equal(uuids.length, 70);
    assert.equal(new Set(uuids).size, 70, 'none stored twice');
  } finally {
    await a.stop();
    await relay.stop();
  }
});

test('registration rounds never overlap, however long one takes', async () => {
  let running = 0;
  let most = 0;
  let calls = 0;
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  class SlowRegistrations extends MemoryRelayStore {
    async writeRegistrations(): Promise<void> {
      calls++;
      running++;
      most = Math.max(most, running);
      try {
        if (calls === 1) await slow;
      } finally {
        running--;
      }
    }
    async readRegistrations(): Promise<NodeRegistration[]> {
      return [];
    }
  }
  const relay = await startRelay(new SlowRegistrations(), { registrationIntervalMs: 10, staleAfterMs: 100 });
  try {
    await waitFor('the first round', async () => (calls === 1 ? true : undefined));
    // Many intervals pass (counted on a timer of the same period) while the first round hangs.
    let ticks = 0;
    const clock = setInterval(() => ticks++, 10);
    await waitFor('30 intervals', async () => (ticks >= 30 ? true : undefined));
    clearInterval(clock);
    assert.equal(calls, 1, 'no round started while one was running');
    release();
    await waitFor('rounds going on after it', async () => (calls >= 3 ? true : undefined));
    assert.equal(most, 1);
  } finally {
    release();
    await relay.stop();
  }
});

test("GetFlows without follow includes what other relays stored after this relay's last insert", async () => {
  const store = new ClaimingStore();
  const relay = await startRelay(store);
  const client = new ObserverApiClient(`127.0.0.1:${relay.port}`, 10_000);
  try {
    // Another relay's insert of a collector this relay never saw: history is cut at the store's
    // per-session marks, not at anything this relay inserted, so these rows are in the answer.
    const w = new FlowBlockWriter();
    for (let i = 0; i < 5; i++)
      w.add({ uuid: `other-${i}`, time: { seconds: Math.floor(Date.now() / 1000), nanos: i }, node_name: 'x' }, undefined, undefined, 0, 'elsewhere', i + 1);
    await store.insertBlocks([w.finish()], [{ session: 'elsewhere', node: 'x', seq: 1 }], relay.batcher.lastId + 1_000_000);
    const got: string[] = [];
    await client.getFlows({}, (res) => {
      if (res.flow?.uuid) got.push(res.flow.uuid);
    });
    assert.deepEqual(got.sort(), ['other-0', 'other-1', 'other-2', 'other-3', 'other-4']);
  } finally {
    client.close();
    await relay.stop();
  }
});
