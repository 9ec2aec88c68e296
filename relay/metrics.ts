// The relay's health (prefix flowscope_relay_ and flowscope_storage_): ingest, storage inserts,
// ingest lag and connected collectors. Counters are read from the stages' stats at scrape time;
// the two histograms are fed per storage insert (never per flow).
import { Gauge, Histogram, type Registry } from 'prom-client';
import { ObservedMetric } from '../common/metrics/family.js';
import type { Relay } from './relay.js';
import { grpcServerStats } from '../common/grpc-server-metrics.js';
import type { RelayTls } from './tls.js';
import type { TokenFile } from '../common/auth/token-file.js';

export interface RelayMetrics {
  /** Called once per durable insert with the oldest flow time (ms) it contained. */
  insertDurable(oldestFlowMs: number): void;
}

export function registerRelayMetrics(registry: Registry, relay: Relay, tls: RelayTls | null = null, tokens: TokenFile | null = null): RelayMetrics {
  const counter = (name: string, help: string, read: () => number) => new ObservedMetric(name, help, 'counter', read).register(registry);
  const gauge = (name: string, help: string, read: () => number) => new ObservedMetric(name, help, 'gauge', read).register(registry);
  const ingest = relay.ingest.stats;
  const batcher = relay.batcher;

  grpcServerStats.register(registry);
  gauge('flowscope_relay_connected_collectors', 'Collectors with an open ingest stream', () => relay.nodes.connected().length);
  gauge('flowscope_relay_known_collectors', 'Collectors seen during the last hour, connected or not', () => relay.nodes.list().length);
  counter('flowscope_relay_ingest_streams_total', 'Ingest streams opened by collectors', () => ingest.streams);
  counter('flowscope_relay_batches_received_total', 'Collector batches received', () => ingest.batchesReceived);
  counter('flowscope_relay_flows_received_total', 'Flows received from collectors', () => ingest.flowsReceived);
  counter('flowscope_relay_duplicate_batches_total', 'Resent batches already stored (ignored, exactly-once)', () => ingest.duplicateBatches);
  counter('flowscope_relay_protocol_errors_total', 'Ingest streams rejected for a protocol error', () => ingest.protocolErrors);
  counter(
    'flowscope_relay_fenced_batches_total',
    'Collector batches not stored because another relay claimed their session (shared store)',
    () => relay.batcher.fencedParts,
  );
  counter('flowscope_relay_registration_errors_total', 'Rounds of collector registrations (shared store) that failed', () => relay.registrationErrors);
  new ObservedMetric('flowscope_relay_rejected_blocks_total', "Collector blocks refused by the relay's check (their rows are lost), by reason", 'counter', () =>
    Object.entries(ingest.rejectedBlocks).map(([reason, value]) => ({ labels: { reason }, value })),
  ).register(registry);
  counter(
    'flowscope_relay_legacy_batches_total',
    'Batches of protobuf flows from collectors before 0.2, converted into blocks by the relay',
    () => ingest.legacyBatches,
  );
  counter(
    'flowscope_relay_legacy_blocks_total',
    'Blocks from collectors before the provenance columns, completed by the relay (their flows are history only)',
    () => ingest.legacyBlocks,
  );
  new ObservedMetric('flowscope_relay_collector_lost_events_total', 'Events collectors reported lost, by Hubble LostEvent source', 'counter', () =>
    Object.entries(relay.lostBySource).map(([source, value]) => ({ labels: { source }, value })),
  ).register(registry);
  if (tls) {
    // Every service/reason pair exists at 0 from the start, so an alert on increase() can fire.
    const guard = tls.guard;
    new ObservedMetric(
      'flowscope_relay_tls_refused_calls_total',
      'Calls refused for their client certificate: none valid (missing, expired, other CA) or, for ingest, not naming the node',
      'counter',
      () =>
        Object.entries(guard?.refused ?? {}).map(([k, value]) => {
          const [service, reason] = k.split(':');
          return { labels: { service, reason }, value };
        }),
    ).register(registry);
    counter('flowscope_relay_tls_reloads_total', 'Certificate files reloaded after a change', () => tls.files.reduce((s, f) => s + f.stats.reloads, 0));
    counter('flowscope_relay_tls_reload_errors_total', 'Changed certificate files that did not check (the previous ones stay in use)', () =>
      tls.files.reduce((s, f) => s + f.stats.reloadErrors, 0),
    );
  }
  const auth = relay.auth;
  if (auth) {
    // Every reason exists at 0 from the start, so an alert on increase() can fire.
    new ObservedMetric(
      'flowscope_relay_auth_refused_total',
      'Observer, Insights and RelayStatus calls refused: no token (missing), a token not in the file (invalid), or a request about namespaces outside the token (forbidden)',
      'counter',
      () => Object.entries(auth.refused).map(([reason, value]) => ({ labels: { reason }, value })),
    ).register(registry);
  }
  if (tokens) {
    counter('flowscope_relay_auth_token_file_reloads_total', 'Token file reloaded after a change', () => tokens.stats.reloads);
    counter(
      'flowscope_relay_auth_token_file_reload_errors_total',
      'Changed token files that did not check (the previous tokens stay in force)',
      () => tokens.stats.reloadErrors,
    );
    gauge('flowscope_relay_auth_token_file_ok', '1 when the token file on disk is the one in force; 0 while a changed file does not check', () =>
      tokens.inForce ? 1 : 0,
    );
  }
  gauge('flowscope_relay_pending_rows', 'Rows accepted from collectors and not yet durable in storage (ingest queue depth)', () => batcher.pending);
  new ObservedMetric(
    'flowscope_relay_insights_requests_total',
    'Insights requests (service map, top lists, why) by method and result: ok, invalid (INVALID_ARGUMENT), forbidden (a scoped token asking outside its namespaces) or failed (storage error)',
    'counter',
    () =>
      Object.entries(relay.insightsStats).flatMap(([method, st]) => [
        { labels: { method, result: 'ok' }, value: st.requests - st.invalid - st.failed - st.forbidden },
        { labels: { method, result: 'invalid' }, value: st.invalid },
        { labels: { method, result: 'failed' }, value: st.failed },
        { labels: { method, result: 'forbidden' }, value: st.forbidden },
      ]),
  ).register(registry);
  const follow = relay.fanout.stats;
  gauge('flowscope_relay_live_subscribers', 'Observer API followers of the live stream', () => follow.followers);
  gauge('flowscope_relay_follow_peer_streams', "GetFlows streams open to collectors' Observer APIs for followers", () => follow.peerStreams);
  counter('flowscope_relay_follow_dropped_flows_total', 'Live flows dropped because a follower fell behind (it was sent a LostEvent)', () => follow.dropped);
  counter('flowscope_relay_follow_peer_errors_total', 'Collector GetFlows streams that failed or ended while followed', () => follow.peerErrors);

  counter('flowscope_storage_insert_rows_total', 'Rows inserted into the flows table', () => batcher.stats.insertedRows);
  counter('flowscope_storage_inserts_total', 'Successful inserts into the flows table', () => batcher.stats.insertedBatches);
  counter('flowscope_storage_insert_errors_total', 'Failed insert attempts (each is retried with backoff)', () => batcher.stats.insertErrors);
  const insertSeconds = new Histogram({
    name: 'flowscope_storage_insert_duration_seconds',
    help: 'Duration of successful storage inserts',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  batcher.onInsertDuration = (ms) => insertSeconds.observe(ms / 1000);

  const lag = new Gauge({
    name: 'flowscope_relay_ingest_lag_seconds',
    help: 'Age of the oldest flow of the latest storage insert when it became durable (collector clock to durable)',
    registers: [registry],
  });
  const lastInsert = new Gauge({
    name: 'flowscope_relay_last_insert_timestamp_seconds',
    help: 'Unix time of the latest durable storage insert',
    registers: [registry],
  });
  const lagHist = new Histogram({
    name: 'flowscope_relay_ingest_lag_distribution_seconds',
    help: 'Distribution of the ingest lag per storage insert',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  return {
    insertDurable(oldestFlowMs) {
      const now = Date.now();
      lastInsert.set(now / 1000);
      if (oldestFlowMs > 0) {
        const s = Math.max(0, (now - oldestFlowMs) / 1000);
        lag.set(s);
        lagHist.observe(s);
      }
    },
  };
}
