// `flowscope relay`: storage + ingest + Observer API in one process (chDB allows one data
// directory per process, so the relay owns it).
import { randomUUID } from 'node:crypto';
import { createLogger } from '../common/logger.js';
import { runUntilSignal } from '../common/lifecycle.js';
import { FlowStore, type ConnectionOptions } from '../storage/index.js';
import { Relay, type RelayStore } from './relay.js';
import { ClickHouseSink } from './sinks/clickhouse-sink.js';
import { SpoolingSink, DEFAULT_SPOOLING_OPTIONS } from './sinks/spooling-sink.js';
import { registerSpoolMetrics } from './sinks/metrics.js';
import type { FlowSink } from './sinks/sink.js';
import type { Logger } from '../common/logger.js';
import type { HistoryQuery } from '../observer/get-flows.js';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { startMetricsServer, type MetricsServer } from '../common/metrics/server.js';
import { registerRelayMetrics } from './metrics.js';
import { buildRelayTls, type RelayTls, type RelayTlsSpec } from './tls.js';
import { serverTlsFiles, type ServerTlsSpec, type TlsFiles } from '../common/tls.js';
import { TokenFile } from '../common/auth/token-file.js';
import { tuneRelayHeap } from './heap.js';

export interface RelayCommandOptions {
  listen: string;
  nodeName: string;
  dataDir: string;
  clickhouseUrl?: string;
  clickhouseUser?: string;
  clickhousePassword?: string;
  clickhouseDatabase?: string;
  /** ClickHouse cluster whose schema was created with `flowscope schema --cluster`. */
  clickhouseCluster?: string;
  retentionDays: number;
  rollupRetentionDays?: number;
  flushIntervalMs: number;
  batchRows: number;
  /** Prometheus /metrics listen address (null: no metrics listener). */
  metricsAddr?: string | null;
  /** HTTPS for /metrics; absent: HTTP. */
  metricsTls?: ServerTlsSpec | null;
  /** Plaintext grpc.health.v1 listener for probes (null/absent: none). */
  healthListen?: string | null;
  /** TLS on the gRPC listener and to collectors; absent: plaintext. */
  tls?: RelayTlsSpec;
  /** On-disk spool for storage outages; null disables it (inserts are then retried in memory). */
  spool: { dir: string; maxBytes: number; segmentBytes: number; insertTimeoutMs: number } | null;
  /** Several relays share the store (see RelayOptions.shared). */
  shared?: { registrationIntervalMs: number; staleAfterMs: number };
  /** Token file (common/auth/token-file.ts) the query services require a token of; absent: open. */
  authTokenFile?: string;
  /** How often the token file is checked for changes (ms; default 2000). */
  authReloadIntervalMs?: number;
  /** Kafka mode: batches go to this topic (the ingester stores them) instead of ClickHouse. */
  kafka?: {
    brokers: string[];
    topic: string;
    compression: 'gzip' | 'none';
    idempotent: boolean;
    /** Also consume the topic into this relay's store (chDB: one process owns the directory). */
    ingestGroup?: string;
  };
}

/** Adapts the FlowStore to what the relay needs; history reads stop at the marks snapshot. */
export function relayStore(store: FlowStore): RelayStore {
  return {
    insertBlocks: (blocks, progress, batchId, opts) => store.insertBlocks(blocks, progress, batchId, opts),
    storedRows: (batchId) => store.storedRows(batchId),
    durableSeq: (s) => store.durableSeq(s),
    claimSession: (s) => store.claimSession(s),
    writeRegistrations: (regs) => store.writeRegistrations(regs),
    readRegistrations: (w) => store.readRegistrations(w),
    query: (q: HistoryQuery) =>
      store.queryFlows({
        whitelist: q.whitelist,
        blacklist: q.blacklist,
        since: q.since,
        until: q.until,
        number: q.number,
        first: q.first,
        marks: q.marks,
        ...(q.scope ? { scope: q.scope } : {}),
      }),
    liveMarks: () => store.liveMarks(),
    namespaces: (sinceMs, scope) => store.namespaces(sinceMs, scope),
    serviceMap: (r) => store.serviceMap(r),
    topTalkers: (r) => store.topTalkers(r),
    topDropReasons: (r) => store.topDropReasons(r),
    whyEvidence: (q) => store.whyEvidence(q),
    close: () => store.close(),
  };
}

export interface RunningRelay {
  relay: Relay;
  metricsPort: number;
  stop(): Promise<void>;
}

export async function startRelay(opts: RelayCommandOptions): Promise<RunningRelay> {
  tuneRelayHeap();
  const log = createLogger('relay');
  // The token file first: one that does not check stops the relay (exit 2) before anything
  // listens, so a typo never leaves the query services open.
  const tokens =
    opts.authTokenFile !== undefined
      ? new TokenFile(opts.authTokenFile, log, '--auth-token-file', { reloadIntervalMs: opts.authReloadIntervalMs ?? 2000 })
      : null;
  // Certificates next: a file that does not check stops the relay before storage opens.
  let tls: RelayTls | undefined;
  let metricsTls: TlsFiles | null;
  try {
    tls = opts.tls ? buildRelayTls(opts.tls, log) : undefined;
    metricsTls = opts.metricsAddr && opts.metricsTls ? serverTlsFiles(opts.metricsTls, log) : null;
  } catch (err) {
    tls?.close();
    tokens?.close();
    throw err;
  }
  const connection: ConnectionOptions = opts.clickhouseUrl
    ? { kind: 'server', url: opts.clickhouseUrl, username: opts.clickhouseUser, password: opts.clickhousePassword, database: opts.clickhouseDatabase }
    : { kind: 'chdb', path: opts.dataDir };
  const store = await FlowStore.open({
    connection,
    retentionDays: opts.retentionDays,
    rollupRetentionDays: opts.rollupRetentionDays,
    cluster: opts.clickhouseCluster,
    // Unique per run: a restarted relay must claim its sessions again like any other relay.
    ...(opts.shared ? { sharedRelayId: `${opts.nodeName}-${randomUUID().slice(0, 8)}` } : {}),
  });
  log.info({ storage: opts.clickhouseUrl ? opts.clickhouseUrl : `chdb:${opts.dataDir}`, flows: await store.countFlows() }, 'storage ready');
  const rs = relayStore(store);
  const sink = await openSink(opts, rs, log);
  let ingester: { stop(): Promise<void> } | undefined;
  if (opts.kafka?.ingestGroup) {
    const { KafkaIngester, DEFAULT_INGESTER_OPTIONS } = await import('./kafka/ingester.js');
    const k = new KafkaIngester(
      store,
      {
        ...DEFAULT_INGESTER_OPTIONS,
        brokers: opts.kafka.brokers,
        topic: opts.kafka.topic,
        groupId: opts.kafka.ingestGroup,
        clientId: `flowscope-relay-ingester-${opts.nodeName}`,
      },
      log,
    );
    await k.start();
    ingester = k;
  }
  const relay = new Relay(
    rs,
    {
      listen: opts.listen,
      nodeName: opts.nodeName,
      batcher: { flushIntervalMs: opts.flushIntervalMs, maxRows: opts.batchRows },
      sink,
      tolerateResumeGaps: !!opts.kafka,
      beforeStoreClose: async () => {
        await ingester?.stop();
      },
      ...(tls ? { tls } : {}),
      ...(opts.shared ? { shared: opts.shared } : {}),
      ...(opts.healthListen ? { healthListen: opts.healthListen } : {}),
      ...(tokens ? { auth: tokens } : {}),
    },
    log,
  );
  let metrics: MetricsServer | null = null;
  if (opts.metricsAddr) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const m = registerRelayMetrics(registry, relay, tls ?? null, tokens);
    relay.onInsertDurable = (oldestMs) => m.insertDurable(oldestMs);
    metrics = await startMetricsServer(opts.metricsAddr, registry, log, metricsTls);
  }
  await relay.start();
  return {
    relay,
    metricsPort: metrics?.port ?? 0,
    async stop() {
      await relay.stop();
      tokens?.close();
      await metrics?.close();
    },
  };
}

async function openSink(opts: RelayCommandOptions, store: RelayStore, log: Logger): Promise<FlowSink> {
  if (opts.kafka) {
    const { KafkaSink, DEFAULT_KAFKA_SINK_OPTIONS } = await import('./sinks/kafka-sink.js');
    const sink = await KafkaSink.open({ ...DEFAULT_KAFKA_SINK_OPTIONS, ...opts.kafka, clientId: `flowscope-relay-${opts.nodeName}` }, log);
    log.info({ brokers: opts.kafka.brokers, topic: opts.kafka.topic }, 'Kafka mode: batches go to Kafka, the ingester stores them');
    return sink;
  }
  const direct = new ClickHouseSink(store, !!opts.shared);
  if (!opts.spool) return direct;
  const { dir, maxBytes, segmentBytes, insertTimeoutMs } = opts.spool;
  const sink = await SpoolingSink.open(direct, { dir, maxBytes, segmentBytes }, log, { ...DEFAULT_SPOOLING_OPTIONS, insertTimeoutMs });
  registerSpoolMetrics(sink);
  log.info({ spool: dir, maxBytes, spooledBatches: sink.spooledRecords }, 'spool ready');
  return sink;
}

export async function runRelay(opts: RelayCommandOptions): Promise<void> {
  const running = await startRelay(opts);
  runUntilSignal(createLogger('relay'), () => running.stop());
}
