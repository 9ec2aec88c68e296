// The collector's own health (prefix flowscope_collector_): read from the stats objects the
// pipeline stages already keep, at scrape time, so the hot path pays nothing for them.
import { Histogram, type Registry } from 'prom-client';
import { ObservedMetric } from '../../common/metrics/family.js';
import type { DecodeStats } from '../decode/stats.js';
import type { PipelineStats } from '../pipeline.js';
import type { FlowRing } from '../ring.js';
import type { Shipper } from '../ship/shipper.js';
import type { LossCounters } from '../loss.js';
import type { DecodeQueue } from '../decode-queue.js';
import type { RedactionStats } from '../enrich/redact.js';

export interface CollectorMetricSources {
  pipeline: PipelineStats;
  decoder: DecodeStats;
  ring: FlowRing;
  shipper: Shipper | null;
  loss: LossCounters;
  queue: Pick<DecodeQueue, 'length'>;
  /** With --redact-enabled. */
  redaction?: RedactionStats | null;
  /** The node's Observer API: GetFlows requests refused for a malformed flowscope-resume header. */
  observer?: { invalidRequests: number };
}

const DECODE_ERROR_KINDS: Array<[keyof DecodeStats, string]> = [
  ['truncated', 'truncated'],
  ['unknownType', 'unknown_type'],
  ['unknownVersion', 'unknown_version'],
  ['badLength', 'bad_length'],
  ['badPacket', 'bad_packet'],
];

export function registerCollectorMetrics(registry: Registry, src: CollectorMetricSources): void {
  const { pipeline, decoder, ring, shipper, loss, queue } = src;
  const counter = (name: string, help: string, read: () => number) => new ObservedMetric(name, help, 'counter', read).register(registry);
  const gauge = (name: string, help: string, read: () => number) => new ObservedMetric(name, help, 'gauge', read).register(registry);

  // Hubble's loss counter, per source (collector/loss.ts counts every stage).
  new ObservedMetric('hubble_lost_events_total', 'Number of lost events', 'counter', () =>
    Object.entries(loss.snapshot()).map(([source, value]) => ({ labels: { source }, value })),
  ).register(registry);
  gauge('flowscope_collector_decode_queue_records', 'Records waiting in the decode queue', () => queue.length);

  counter('flowscope_collector_records_read_total', 'Datapath records read from the source', () => pipeline.recordsRead);
  counter('flowscope_collector_flows_total', 'Flows decoded from datapath records', () => pipeline.flowsDecoded);
  new ObservedMetric('flowscope_collector_decode_errors_total', 'Records that could not be decoded, by kind (collector/decode/stats.ts)', 'counter', () =>
    DECODE_ERROR_KINDS.map(([k, kind]) => ({ labels: { kind }, value: decoder[k] })),
  ).register(registry);
  counter(
    'flowscope_collector_records_ignored_total',
    'Records of known types that are not flows (debug, recorder, agent), ignored like Hubble does',
    () => decoder.skipped,
  );
  gauge('flowscope_collector_ring_flows', 'Flows held in the node ring (Observer API history)', () => ring.length);
  gauge('flowscope_collector_ring_capacity', 'Capacity of the node ring', () => ring.capacity);
  counter('flowscope_collector_ring_overwritten_total', 'Flows overwritten in the ring by newer ones', () => ring.overwritten);
  const redaction = src.redaction;
  if (redaction) {
    new ObservedMetric('flowscope_collector_redacted_total', 'Values redacted before flows leave the node, by field (--redact-*)', 'counter', () => [
      { labels: { field: 'http_url' }, value: redaction.httpUrls },
      { labels: { field: 'http_header' }, value: redaction.httpHeaders },
      { labels: { field: 'kafka_api_key' }, value: redaction.kafkaApiKeys },
      { labels: { field: 'dns_name' }, value: redaction.dnsNames },
    ]).register(registry);
  }
  const observer = src.observer;
  if (observer)
    counter(
      'flowscope_collector_observer_invalid_requests_total',
      'GetFlows requests refused for a malformed flowscope-resume header',
      () => observer.invalidRequests,
    );
  if (shipper === null) return;
  const s = shipper.stats;
  gauge('flowscope_collector_ship_queue_flows', "Flows waiting for the relay's durable acknowledgement (sent or not yet sent)", () => s.unackedFlows);
  counter('flowscope_collector_ship_batches_sent_total', 'Batches written to the relay stream (resends included)', () => s.batchesSent);
  counter('flowscope_collector_ship_batches_acked_total', 'Batches the relay acknowledged as durable', () => s.batchesAcked);
  counter('flowscope_collector_ship_flows_sent_total', 'Flows written to the relay stream (resends included)', () => s.flowsSent);
  counter('flowscope_collector_ship_flows_acked_total', 'Flows the relay acknowledged as durable', () => s.flowsAcked);
  counter(
    'flowscope_collector_ship_flows_dropped_total',
    'Flows dropped because the unacknowledged backlog was full (with a spill queue: its disk budget was spent)',
    () => s.flowsDropped,
  );
  counter('flowscope_collector_relay_reconnects_total', 'Times the relay stream broke and was reopened', () => s.reconnects);
  counter(
    'flowscope_collector_relay_failovers_total',
    'Times the collector moved to the next relay of its --relay list after a stream broke',
    () => s.failovers,
  );
  gauge('flowscope_collector_relay_connected', '1 while the ingest stream to the relay is established', () => (s.connected ? 1 : 0));
  gauge('flowscope_collector_ship_memory_bytes', 'Encoded bytes of unacknowledged batches held in memory', () => s.memoryBytes);
  const spill = s.spill;
  if (spill !== null) {
    gauge('flowscope_collector_ship_spill_bytes', "Bytes of the on-disk spill queue (segment files, earlier runs' sessions included)", () => spill.queueBytes);
    gauge('flowscope_collector_ship_spill_batches', 'Unacknowledged batches in the on-disk spill queue', () => spill.queueBatches);
    gauge('flowscope_collector_ship_spill_flows', 'Unacknowledged flows in the on-disk spill queue', () => spill.queueFlows);
    counter('flowscope_collector_ship_spilled_batches_total', 'Batches moved from memory to the on-disk spill queue', () => spill.spilledBatches);
    counter('flowscope_collector_ship_spilled_bytes_total', 'Bytes written to the on-disk spill queue', () => spill.spilledBytes);
    counter(
      'flowscope_collector_ship_replayed_batches_total',
      'Batches read back from the spill queue and sent to the relay (resends included)',
      () => spill.replayedBatches,
    );
    gauge(
      'flowscope_collector_ship_spill_earlier_sessions',
      'Sessions of earlier runs found in the spill directory and not replayed yet',
      () => spill.earlierSessions,
    );
    counter('flowscope_collector_ship_spill_errors_total', 'Failed spill queue writes and reads (retried)', () => spill.errors);
  }
  const latency = new Histogram({
    name: 'flowscope_collector_ship_latency_seconds',
    help: "Time from sending a batch to the relay's durable acknowledgement",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  shipper.onAckLatency = (ms) => latency.observe(ms / 1000);
}
