// The relay's live path end to end, in one process: synthetic collectors (their own Observer
// APIs and shippers) → relay → a follower. Live flows come from the collectors' rings, so a
// follower gets every flow while storage holds its inserts; a follow that starts while history
// exists hands over from storage to the rings without a gap or a duplicate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Relay } from './relay.js';
import { LiveFanout } from './live-fanout.js';
import { RawFlowResponse } from '../observer/raw-response.js';
import { PeerClients } from './peers.js';
import type { NodeRecord } from './nodes.js';
import { relayStore } from './main.js';
import { startCollector, type RunningCollector } from '../collector/main.js';
import { createLogger } from '../common/logger.js';
import { FlowStore } from '../storage/index.js';
import { MemoryRelayStore } from '../testing/memory-relay-store.js';
import { blockProvenance } from '../schema/native/flow-block.js';
import { ObserverApiClient } from '../api/client.js';
import { timestampToNs } from '../common/time.js';
import type { Flow, GetFlowsRequest } from '../proto/types.js';
import { NodeState, Verdict } from '../proto/types.js';

const log = createLogger('test', 'silent');
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-fanout-'));
after(() => fs.rm(dir, { recursive: true, force: true }));

async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function collector(relayPort: number, node: string, count: number, rate: number): Promise<RunningCollector> {
  return startCollector({
    source: { kind: 'synthetic', rate, seed: Number(node) * 7, node, clusterNodes: 4, count },
    relay: `127.0.0.1:${relayPort}`,
    listen: '127.0.0.1:0',
    ringCapacity: 50_000,
    maxUnackedFlows: 100_000,
  });
}

/** Every flow a collector produced (its ring holds them all: capacity above the count). */
function generated(c: RunningCollector): Flow[] {
  assert.ok(c.ring.seen <= c.ring.capacity);
  return [...c.ring.range(0, c.ring.seen)];
}

const sourceDone = (c: RunningCollector, count: number) => c.pipeline.stats.recordsRead >= count && c.queue.length === 0;

class Follower {
  readonly flows: Flow[] = [];
  readonly statuses: Array<{ state: number; nodes: string[] }> = [];
  lost = 0;
  error: Error | null = null;
  private readonly abort = new AbortController();
  private readonly client: ObserverApiClient;
  private readonly done: Promise<void>;

  constructor(port: number, req: GetFlowsRequest) {
    this.client = new ObserverApiClient(`127.0.0.1:${port}`, 60_000);
    this.done = this.client
      .getFlows(
        req,
        (r) => {
          if (r.flow) this.flows.push(r.flow);
          if (r.lost_events) this.lost += Number(r.lost_events.num_events_lost ?? 0);
          if (r.node_status) this.statuses.push({ state: r.node_status.state_change ?? 0, nodes: r.node_status.node_names ?? [] });
        },
        this.abort.signal,
      )
      .catch((e: Error) => {
        this.error = e;
      });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
    this.client.close();
  }
}

function assertExactlyOnce(got: Flow[], want: Flow[]): void {
  const ids = got.map((f) => f.uuid!);
  assert.equal(new Set(ids).size, ids.length, 'no duplicate');
  assert.deepStrictEqual([...ids].sort(), want.map((f) => f.uuid!).sort(), 'every generated flow, nothing else');
}

function assertTimeOrder(flows: Flow[], what: string): void {
  for (let i = 1; i < flows.length; i++) {
    assert.ok(timestampToNs(flows[i - 1].time) <= timestampToNs(flows[i].time), `${what}: flow ${i} is older than the one before`);
  }
}

test('slow storage: a follower started mid-stream gets every flow once, in time order, while the inserts are still held', async () => {
  const store = new MemoryRelayStore();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  store.beforeInsert = () => gate; // nothing becomes durable until the gate opens
  // A long merge delay: release is decided by the collectors' watermarks, so the order is exact.
  const relay = new Relay(store, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 20 }, follow: { mergeMaxDelayMs: 3000 } }, log);
  await relay.start();
  const count = 1500;
  const cs = [await collector(relay.port, '1', count, 1000), await collector(relay.port, '2', count, 1000)];
  let follower: Follower | undefined;
  let masked: Follower | undefined;
  let decodes = 0;
  let restore = () => {};
  try {
    await waitFor('both collectors registered', () => (relay.nodes.connected().length === 2 ? true : undefined));
    await waitFor('flows in both rings', () => (cs.every((c) => c.ring.seen >= 300) ? true : undefined));
    follower = new Follower(relay.port, { follow: true, since: { seconds: 1, nanos: 0 } });
    // The relay forwards the collectors' encoded flows; a field mask goes down to the collectors
    // with the filters, so masked flows are forwarded too: the relay decodes none of them.
    const decode = RawFlowResponse.prototype.decode;
    RawFlowResponse.prototype.decode = function () {
      decodes++;
      return decode.call(this);
    };
    restore = () => (RawFlowResponse.prototype.decode = decode);
    masked = new Follower(relay.port, { follow: true, since: { seconds: 1, nanos: 0 }, field_mask: { paths: ['time', 'uuid', 'source.pod_name'] } });
    const f = follower,
      m = masked;
    await waitFor('sources done', () => (cs.every((c) => sourceDone(c, count)) ? true : undefined));
    const want = cs.flatMap(generated);
    await waitFor('every flow followed', () => (f.flows.length >= want.length && m.flows.length >= want.length ? true : undefined));
    assert.equal(store.rowCount, 0, 'storage has not stored anything yet: live did not wait for it');
    assert.equal(f.error, null);
    assert.equal(f.lost, 0);
    assertExactlyOnce(f.flows, want);
    assertTimeOrder(f.flows, 'merged stream');
    // Forwarded as the collectors encoded them: every field arrives as the ring holds it.
    const byUuid = new Map(want.map((x) => [x.uuid, x]));
    for (const x of f.flows) assert.deepEqual(x, byUuid.get(x.uuid));
    assert.equal(m.error, null);
    assertExactlyOnce(m.flows, want);
    for (const x of m.flows) {
      assert.deepEqual(Object.keys(x).sort(), ['source', 'time', 'uuid']);
      assert.ok(Object.keys(x.source!).every((k) => k === 'pod_name'));
      assert.equal(x.source!.pod_name, byUuid.get(x.uuid)!.source?.pod_name);
    }
    assert.equal(relay.fanout.stats.peerStreams, 4);
    assert.equal(decodes, 0, 'the relay decoded no live flow');
  } finally {
    restore();
    open();
    await follower?.stop();
    await masked?.stop();
    for (const c of cs) await c.stop();
    await relay.stop();
  }
  assert.equal(relay.fanout.stats.followers, 0, 'the follower is gone');
  assert.equal(relay.fanout.stats.peerStreams, 0, 'its collector streams were cancelled');
});

test('follow with history in storage: the handover from storage to the rings has no gap and no duplicate; filters go down', async () => {
  const flowStore = await FlowStore.open({ path: path.join(dir, 'chdb') });
  const inner = relayStore(flowStore);
  // Once both collectors have 300 flows stored, later inserts wait: when the follow starts, some
  // flows are in storage and the rest only in the rings, whatever the machine's speed.
  const storedBySession = new Map<string, number>();
  let release: () => void = () => {};
  let hold: Promise<void> | null = null;
  const store = {
    ...inner,
    insertBlocks: async (...args: Parameters<typeof inner.insertBlocks>) => {
      if (hold) await hold;
      await inner.insertBlocks(...args);
      for (const b of args[0]) for (const p of blockProvenance(b)) storedBySession.set(p.session, (storedBySession.get(p.session) ?? 0) + 1);
      if (hold === null && storedBySession.size === 2 && [...storedBySession.values()].every((n) => n >= 300)) hold = new Promise<void>((r) => (release = r));
    },
  };
  const relay = new Relay(store, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 50 } }, log);
  await relay.start();
  const count = 6000;
  const cs = [await collector(relay.port, '1', count, 2000), await collector(relay.port, '2', count, 2000)];
  const followers: Follower[] = [];
  try {
    await waitFor('both collectors registered', () => (relay.nodes.connected().length === 2 ? true : undefined));
    await waitFor('inserts held with history in storage', () => (hold !== null ? true : undefined));
    const marks = await flowStore.liveMarks();
    assert.equal(marks.size, 2);
    await waitFor('flows beyond history in both rings', () => (cs.every((c) => c.ring.seen >= (marks.get(c.session) ?? 0) + 200) ? true : undefined));
    const all = new Follower(relay.port, { follow: true, since: { seconds: 1, nanos: 0 } });
    const drops = new Follower(relay.port, { follow: true, since: { seconds: 1, nanos: 0 }, whitelist: [{ verdict: [Verdict.DROPPED] }] });
    followers.push(all, drops);
    await waitFor('followers under way', () => (all.flows.length > 0 && relay.fanout.stats.peerStreams === 4 ? true : undefined));
    release(); // storage catches up while they follow
    await waitFor('sources done', () => (cs.every((c) => sourceDone(c, count)) ? true : undefined));
    const want = cs.flatMap(generated);
    const wantDrops = want.filter((f) => f.verdict === Verdict.DROPPED);
    assert.ok(wantDrops.length > 0 && wantDrops.length < want.length);
    await waitFor('every flow followed', () => (all.flows.length >= want.length && drops.flows.length >= wantDrops.length ? true : undefined));
    for (const f of followers) {
      assert.equal(f.error, null);
      assert.equal(f.lost, 0);
    }
    assertExactlyOnce(all.flows, want);
    assertExactlyOnce(drops.flows, wantDrops);
    // Per node, history (up to the mark) then the ring (after it): one ascending sequence.
    for (const c of cs) {
      const node = generated(c)[0].node_name!;
      assertTimeOrder(
        all.flows.filter((f) => f.node_name === node),
        node,
      );
    }
    assert.ok(
      all.statuses.some((s) => s.state === NodeState.NODE_CONNECTED && s.nodes.length === 2),
      'the preamble names the connected collectors',
    );
  } finally {
    release();
    for (const f of followers) await f.stop();
    for (const c of cs) await c.stop();
    await relay.stop();
  }
});

test('collectors coming and going are reported; a follower that does not read is bounded and told what it lost', async () => {
  const store = new MemoryRelayStore();
  const relay = new Relay(store, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 20 }, follow: { maxBuffered: 200, pollMs: 50 } }, log);
  await relay.start();
  const first = await collector(relay.port, '1', 100_000, 1000);
  let late: RunningCollector | undefined;
  let follower: Follower | undefined;
  const idle = relay.fanout.open({ follow: true }, null); // never read until the end
  try {
    await waitFor('first collector registered', () => (relay.nodes.connected().length === 1 ? true : undefined));
    follower = new Follower(relay.port, { follow: true });
    const f = follower;
    await waitFor('flows from the first collector', () => (f.flows.length > 0 ? true : undefined));
    late = await collector(relay.port, '2', 100_000, 1000);
    const l = late;
    const lateNode = (await waitFor('a flow in the late collector’s ring', () => (l.ring.seen > 0 ? [...l.ring.range(0, 1)][0] : undefined))).node_name!;
    await waitFor('the late collector announced', () =>
      f.statuses.some((s) => s.state === NodeState.NODE_CONNECTED && s.nodes.includes(lateNode)) ? true : undefined,
    );
    await waitFor('flows of the late collector followed', () => (f.flows.some((x) => x.node_name === lateNode) ? true : undefined));
    await late.stop();
    late = undefined;
    await waitFor('the late collector reported gone', () =>
      f.statuses.some((s) => s.state === NodeState.NODE_UNAVAILABLE && s.nodes.includes(lateNode)) ? true : undefined,
    );
    assert.equal(f.error, null);

    // The idle follower kept at most its bound and counted the rest.
    await waitFor('flows dropped for the idle follower', () => (relay.fanout.stats.dropped > 0 ? true : undefined));
    const items = await idle.next();
    const flows = items.filter((i) => i.flow || i.raw).length;
    const lost = items.filter((i) => i.lost).reduce((s, i) => s + Number(i.lost!.num_events_lost), 0);
    assert.ok(flows <= 200, `${flows} flows held`);
    assert.ok(lost > 0, 'a LostEvent for what was dropped');
  } finally {
    idle.close();
    await follower?.stop();
    await late?.stop();
    await first.stop();
    await relay.stop();
  }
  assert.equal(relay.fanout.stats.followers, 0);
  assert.equal(relay.fanout.stats.peerStreams, 0);
});

test('a collector answering with another session than the registry names is resumed at its own session’s mark', async () => {
  const count = 300;
  const c = await startCollector({
    source: { kind: 'synthetic', rate: 3000, seed: 11, node: '3', clusterNodes: 4, count },
    relay: null,
    listen: '127.0.0.1:0',
    ringCapacity: 10_000,
    maxUnackedFlows: 1000,
  });
  const peers = new PeerClients();
  // The registry still names an earlier session (e.g. the Hello of a spill replay).
  const node: NodeRecord = {
    name: 'n3',
    session: 'an-earlier-session',
    observerAddress: `127.0.0.1:${c.port}`,
    version: 't',
    connected: true,
    connectedAtMs: Date.now(),
    disconnectedAtMs: 0,
    durableFlows: 0,
    lastFlowAtMs: 0,
  };
  const fanout = new LiveFanout({ connected: () => [node] }, peers, log);
  let stream: ReturnType<LiveFanout['open']> | undefined;
  try {
    await c.finished;
    const all = generated(c);
    // History holds this session's flows up to 100, and the earlier session's up to 7.
    stream = fanout.open(
      { follow: true, since: { seconds: 1, nanos: 0 } },
      new Map([
        [c.session, 100],
        ['an-earlier-session', 7],
      ]),
    );
    const got: Flow[] = [];
    while (got.length < all.length - 100) {
      for (const it of await stream.next()) {
        // The collector's flows come as its encoded responses, read no further than their time.
        assert.equal(it.flow, undefined);
        if (it.raw) got.push(it.raw.decode().flow);
      }
    }
    assertExactlyOnce(got, all.slice(100));
    assert.equal(fanout.stats.sessionMismatches, 1);
  } finally {
    stream?.close();
    peers.close();
    await c.stop();
  }
});
