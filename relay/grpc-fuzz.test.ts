// Robustness of every gRPC method the relay serves (Observer, Insights, Ingest, health) against
// hostile request bytes, and of the live stream against 10,000 followers that connect and drop:
// no crash, the relay still answers afterwards, memory comes back, and every call is counted in
// grpc_server_handled_total under the code the client saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { Relay } from './relay.js';
import { registerRelayMetrics } from './metrics.js';
import { ObserverService } from '../common/grpc-services.js';
import { grpcServerStats } from '../common/grpc-server-metrics.js';
import { createLogger } from '../common/logger.js';
import { types } from '../proto/index.js';
import { ObserverApiClient } from '../api/client.js';
import { MemoryRelayStore } from '../testing/memory-relay-store.js';
import { fuzzMethods, healthFuzzMethods, ingestFuzzMethod, insightsFuzzMethods, observerFuzzMethods } from '../testing/grpc-fuzz.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Heap after a full collection (twice: the first may only finalise). */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const RELAY_METHODS = [...observerFuzzMethods(), ...insightsFuzzMethods(), ingestFuzzMethod(), ...healthFuzzMethods()];

async function startRelay(): Promise<Relay> {
  const relay = new Relay(new MemoryRelayStore(), { listen: '127.0.0.1:0', nodeName: 'relay' }, createLogger('test', 'silent'));
  await relay.start();
  return relay;
}

function handledTotal(paths: string[], codes = Array.from({ length: 17 }, (_, c) => c)): number {
  let n = 0;
  for (const p of paths) for (const c of codes) n += grpcServerStats.handled(p, c);
  return n;
}

async function stillAnswers(relay: Relay): Promise<void> {
  const client = new ObserverApiClient(`127.0.0.1:${relay.port}`, 30_000);
  try {
    assert.equal(await client.healthCheck(), 'SERVING');
    const status = (await client.serverStatus()) as { num_connected_nodes?: number };
    assert.ok(status, 'ServerStatus answers');
  } finally {
    client.close();
  }
}

test('hostile request bytes on every relay method: refused with the right code, counted, and the relay still answers', { timeout: 180_000 }, async (t) => {
  const relay = await startRelay();
  try {
    const paths = RELAY_METHODS.map((m) => m.path);
    const handledBefore = handledTotal(paths);
    const internalBefore = handledTotal(paths, [grpc.status.INTERNAL]);
    const malformedBefore = paths.reduce((n, p) => n + grpcServerStats.malformedCount(p), 0);
    const heapBefore = heapAfterGc();
    const tally = await fuzzMethods(`127.0.0.1:${relay.port}`, RELAY_METHODS, 3000, 20261207);
    t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
    assert.ok(tally.undecodable > 300 && tally.undecodable < 2700, `a mix of undecodable and decodable requests (${tally.undecodable})`);
    assert.ok((tally.codes.INVALID_ARGUMENT ?? 0) > 0 && (tally.codes.OK ?? 0) > 0 && (tally.codes.UNIMPLEMENTED ?? 0) > 0, 'every kind of answer seen');

    // Every call counted once, under the code the client saw; the undecodable ones also as malformed.
    await waitUntil(() => handledTotal(paths) - handledBefore >= tally.calls);
    assert.equal(handledTotal(paths) - handledBefore, tally.calls, 'each call counted exactly once');
    const malformedAfter = paths.reduce((n, p) => n + grpcServerStats.malformedCount(p), 0);
    assert.equal(malformedAfter - malformedBefore, tally.undecodable, 'every undecodable request counted as malformed (the health service too)');
    assert.equal(handledTotal(paths, [grpc.status.INTERNAL]) - internalBefore, tally.codes.INTERNAL, 'and counted handled with the code the client saw');
    for (const [p, n] of Object.entries(tally.undecodableByPath)) assert.equal(grpcServerStats.malformedCount(p) > 0, n > 0, p);
    const registry = new Registry();
    registerRelayMetrics(registry, relay);
    const text = await registry.metrics();
    assert.match(
      text,
      /grpc_server_handled_total\{grpc_service="observer\.Observer",grpc_method="GetFlows",grpc_type="server_stream",grpc_code="InvalidArgument"\} [1-9]/,
    );
    assert.match(
      text,
      /flowscope_grpc_malformed_requests_total\{grpc_service="flowscope\.ingest\.v1\.Ingest",grpc_method="Push",grpc_type="bidi_stream"\} [1-9]/,
    );

    await stillAnswers(relay);
    await waitUntil(() => relay.fanout.stats.followers === 0);
    const grown = heapAfterGc() - heapBefore;
    t.diagnostic(`heap after fuzz and GC: ${(grown / 2 ** 20).toFixed(1)} MiB over the start`);
    assert.ok(grown < 64 * 2 ** 20, `heap grew ${grown} bytes`);
  } finally {
    await relay.stop();
  }
});

async function waitUntil(cond: () => boolean): Promise<void> {
  // Waits for the condition; the test's timeout bounds it.
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

test('10,000 live followers open and drop: counted, memory bounded and returned, the relay still answers', { timeout: 300_000 }, async (t) => {
  const relay = await startRelay();
  const STREAMS = 10_000;
  const CHANNELS = 8;
  const path = ObserverService.GetFlows.path;
  const clients = Array.from(
    { length: CHANNELS },
    // A connection of its own per client: 10k streams over one HTTP/2 connection is not what many
    // followers look like.
    () => new grpc.Client(`127.0.0.1:${relay.port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  const body = Buffer.from(
    types.GetFlowsRequest.encode(types.GetFlowsRequest.fromObject({ follow: true, whitelist: [{ source_pod: ['default/'] }] })).finish(),
  );
  const identity = (b: Buffer) => b;
  const streams: grpc.ClientReadableStream<Buffer>[] = [];
  let statuses = 0;
  const codes: Record<string, number> = {};
  try {
    const heapBefore = heapAfterGc();
    const rssBefore = process.memoryUsage().rss;
    const cancelledBefore = grpcServerStats.handled(path, grpc.status.CANCELLED);
    const startedBefore = grpcServerStats.started(path);
    for (let i = 0; i < STREAMS; i++) {
      const s = clients[i % CHANNELS].makeServerStreamRequest(path, identity, identity, body);
      s.on('error', () => {});
      s.on('status', (st: grpc.StatusObject) => {
        statuses++;
        codes[grpc.status[st.code]] = (codes[grpc.status[st.code]] ?? 0) + 1;
      });
      streams.push(s);
    }
    await waitUntil(() => relay.fanout.stats.followers === STREAMS);
    assert.equal(grpcServerStats.started(path) - startedBefore, STREAMS);
    const heapOpen = heapAfterGc();
    const rssOpen = process.memoryUsage().rss;
    const perStream = (heapOpen - heapBefore) / STREAMS;
    t.diagnostic(
      `${STREAMS} followers: heap +${((heapOpen - heapBefore) / 2 ** 20).toFixed(1)} MiB (${Math.round(perStream)} B each, client and server in this process), RSS +${((rssOpen - rssBefore) / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.ok(perStream < 64 * 1024, `each follower holds ${perStream} bytes of heap`);

    for (const s of streams) s.cancel();
    await waitUntil(() => statuses === STREAMS && relay.fanout.stats.followers === 0);
    assert.deepEqual(codes, { CANCELLED: STREAMS });
    await waitUntil(() => grpcServerStats.handled(path, grpc.status.CANCELLED) - cancelledBefore === STREAMS);
    streams.length = 0;
    await stillAnswers(relay);
    const heapAfter = heapAfterGc();
    t.diagnostic(
      `after they dropped and GC: heap ${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MiB over the start, RSS ${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1)} MiB`,
    );
    assert.ok(heapAfter - heapBefore < 32 * 2 ** 20, `heap kept ${heapAfter - heapBefore} bytes after the followers left`);
  } finally {
    for (const s of streams) s.cancel();
    for (const c of clients) c.close();
    await relay.stop();
  }
});
