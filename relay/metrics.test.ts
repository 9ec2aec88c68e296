// Relay and collector health metrics over a real ingest stream (storage in memory, failing
// twice): the scraped values agree with what was shipped, stored, retried and reported lost, and
// the lost-event totals reach the HTTP API's status route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scrapeValues } from '../common/metrics/scrape.js';
import { Registry } from 'prom-client';
import { Relay } from './relay.js';
import { registerRelayMetrics } from './metrics.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from '../collector/ship/shipper.js';
import { registerCollectorMetrics } from '../collector/metrics/pipeline-metrics.js';
import { LossCounters } from '../collector/loss.js';
import { LostEventSource } from '../proto/types.js';
import { FlowRing } from '../collector/ring.js';
import { newDecodeStats } from '../collector/decode/stats.js';
import { createLogger } from '../common/logger.js';
import { MemoryRelayStore } from '../testing/memory-relay-store.js';
import { buildApi } from '../api/http/server.js';

const scrape = scrapeValues;

test('relay and collector pipeline metrics match what was shipped, stored, retried and lost', async () => {
  const log = createLogger('test', 'silent');
  const store = new MemoryRelayStore({ decode: false });
  store.failNext = 2;
  const relay = new Relay(store, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 20, retryMinMs: 10, retryMaxMs: 50 } }, log);
  const relayRegistry = new Registry();
  const rm = registerRelayMetrics(relayRegistry, relay);
  relay.onInsertDurable = (ms) => rm.insertDurable(ms);
  await relay.start();

  const shipper = new Shipper(
    {
      ...DEFAULT_SHIPPER_OPTIONS,
      maxBatchFlows: 100,
      maxBatchDelayMs: 5,
      relayAddress: `127.0.0.1:${relay.port}`,
      nodeName: 'n1',
      observerAddress: '',
      version: 't',
    },
    log,
  );
  const collectorRegistry = new Registry();
  const pipeline = { recordsRead: 1200, flowsDecoded: 1000, recordsSkipped: 200, perfLost: 5 };
  const decoder = { ...newDecodeStats(), decoded: 1000, truncated: 150, badPacket: 50 };
  const loss = new LossCounters();
  loss.add(LostEventSource.PERF_EVENT_RING_BUFFER, 5);
  registerCollectorMetrics(collectorRegistry, { pipeline, decoder, ring: new FlowRing(16), shipper, loss, queue: { length: 0 } });
  shipper.start();
  const twoSecondsAgo = Math.floor(Date.now() / 1000) - 2;
  for (let i = 0; i < 1000; i++) shipper.add({ uuid: `u${i}`, time: { seconds: twoSecondsAgo, nanos: i }, node_name: 'n1' });
  shipper.addLost({ source: 1, num_events_lost: 5 });
  try {
    assert.equal(await shipper.drain(10_000), true);
    const r = await scrape(relayRegistry);
    assert.equal(r.get('flowscope_relay_flows_received_total'), 1000);
    assert.equal(r.get('flowscope_storage_insert_rows_total'), 1000);
    assert.equal(r.get('flowscope_storage_insert_errors_total'), 2);
    assert.equal(r.get('flowscope_storage_insert_duration_seconds_count'), r.get('flowscope_storage_inserts_total'));
    assert.equal(r.get('flowscope_relay_connected_collectors'), 1);
    assert.equal(r.get('flowscope_relay_pending_rows'), 0);
    assert.equal(r.get('flowscope_relay_collector_lost_events_total{source="perf_event_ring_buffer"}'), 5);
    // The same totals over the RelayStatus service, as the HTTP API's status route shows them.
    const api = buildApi({ server: `127.0.0.1:${relay.port}` });
    try {
      const status = (await api.inject({ method: 'GET', url: '/api/v1/status' })).json() as { lost_events: Record<string, number> };
      assert.deepEqual(status.lost_events, { perf_event_ring_buffer: 5, observer_events_queue: 0, hubble_ring_buffer: 0 });
    } finally {
      await api.close();
    }
    assert.ok(r.get('flowscope_relay_ingest_lag_seconds')! >= 2, 'flows stamped 2 s ago are at least 2 s old when durable');
    assert.ok(r.get('flowscope_relay_last_insert_timestamp_seconds')! >= twoSecondsAgo);

    const c = await scrape(collectorRegistry);
    assert.equal(c.get('flowscope_collector_ship_flows_acked_total'), 1000);
    assert.equal(c.get('flowscope_collector_ship_batches_acked_total'), c.get('flowscope_collector_ship_batches_sent_total'));
    assert.equal(c.get('flowscope_collector_ship_latency_seconds_count'), c.get('flowscope_collector_ship_batches_acked_total'));
    assert.equal(c.get('flowscope_collector_ship_queue_flows'), 0);
    assert.equal(c.get('flowscope_collector_relay_connected'), 1);
    assert.equal(c.get('flowscope_collector_records_read_total'), 1200);
    assert.equal(c.get('flowscope_collector_decode_errors_total{kind="truncated"}'), 150);
    assert.equal(c.get('flowscope_collector_decode_errors_total{kind="bad_packet"}'), 50);
    assert.equal(c.get('hubble_lost_events_total{source="perf_event_ring_buffer"}'), 5);
    assert.equal(c.get('hubble_lost_events_total{source="observer_events_queue"}'), 0);
  } finally {
    await shipper.stop();
    await relay.stop();
  }
  const after = await scrape(collectorRegistry);
  assert.equal(after.get('flowscope_collector_relay_connected'), 0);
});
