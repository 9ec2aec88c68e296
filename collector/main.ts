// `flowscope collector`: one per node. Wires a source through decode and enrichment into the
// ring (served on the node's Observer API) and the shipper (to the relay).
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { createLogger } from '../common/logger.js';
import { ObserverService, OBSERVER_HEALTH_SERVICE, bindServer, startHealthServer } from '../common/grpc-services.js';
import { runUntilSignal } from '../common/lifecycle.js';
import { LiveFeed } from '../observer/live.js';
import { observerHandlers } from '../observer/service.js';
import { FlowRing } from './ring.js';
import { DEFAULT_FLOW_BLOCKS, FlowBlocks } from './blocks.js';
import { BlockPool } from './block-pool.js';
import { tuneCollectorHeap } from './heap.js';
import { CollectorPipeline } from './pipeline.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from './ship/shipper.js';
import { collectorObserverBackend } from './observer-backend.js';
import { FlowRateMeter } from '../common/rate.js';
import type { DnsPairingOptions } from './decode/dns-pairing.js';
import { LostEventSource } from '../proto/types.js';
import { LossCounters } from './loss.js';
import { DecodeQueue, DEFAULT_DECODE_QUEUE } from './decode-queue.js';
import type { BuiltSource } from './sources/registry.js';
import type { KubernetesWatcher } from './enrich/k8s-watch.js';
import { createSource, type KubernetesEnrichmentSpec, type SourceSpec } from './sources/registry.js';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { startMetricsServer, type MetricsServer } from '../common/metrics/server.js';
import { ObservedMetric } from '../common/metrics/family.js';
import { FlowMetrics } from './metrics/flow-metrics.js';
import { addCountedService, countedServerOptions, counting, grpcServerStats } from '../common/grpc-server-metrics.js';
import { registerCollectorMetrics } from './metrics/pipeline-metrics.js';
import type { DecodeStats } from './decode/stats.js';
import { VERSION } from '../common/version.js';
import type { RedactionOptions } from './enrich/redact.js';
import { warmUpPipeline, DEFAULT_WARMUP_RECORDS } from './warmup.js';
import {
  ClientCertGuard,
  clientTlsFiles,
  grpcServerCredentials,
  serverTlsFiles,
  type ClientTlsSpec,
  type ServerTlsSpec,
  type TlsFiles,
} from '../common/tls.js';

export interface CollectorOptions {
  /** Required for file sources; a synthetic source defaults to the name of the node it plays. */
  nodeName?: string;
  /** Cluster name on every flow (`--cluster-name`); see createSource. */
  clusterName?: string;
  source: SourceSpec;
  relay: string | null;
  listen: string;
  ringCapacity: number;
  /** Records waiting for the decoder at most; beyond it they are dropped and reported (default 65,536). */
  decodeQueueSize?: number;
  /** Bytes those records hold at most (payloads and per-record overhead; default 4 MiB, DEFAULT_DECODE_QUEUE). */
  decodeQueueBytes?: number;
  inventory?: string;
  /** Enrich from the Kubernetes API (pods, services, nodes) instead of an inventory. */
  kubernetes?: KubernetesEnrichmentSpec;
  /** Turn DNS in port-53 payloads into Hubble L7 DNS flows (see docs/decoder.md). */
  l7Dns?: boolean;
  dnsPairing?: DnsPairingOptions;
  /** How long to wait for the first Kubernetes list before reading records anyway (ms). */
  kubernetesSyncTimeoutMs?: number;
  maxUnackedFlows: number;
  /** Generated records run through a private copy of the hot path before the source starts, so
   * the first real records meet optimised code (collector/warmup.ts; default 20,000, 0: none). */
  warmupRecords?: number;
  /** With a spill queue: encoded batch bytes kept in memory (default 8 MiB, DEFAULT_SHIPPER_OPTIONS). */
  maxUnackedBytes?: number;
  /**
   * The shipper's on-disk spill queue for relay outages: `dir` defaults to
   * `.flowscope/collector-<node>/spill`. Absent or null: no spill queue (a full in-memory backlog
   * drops new flows).
   */
  spill?: { dir?: string; maxBytes: number } | null;
  /** Advertised to the relay for GetNodes/ServerStatus; defaults to the listen address on loopback. */
  advertise?: string;
  /** Prometheus /metrics listen address (null: no metrics listener). */
  metricsAddr?: string | null;
  /** Hubble metrics configuration (`--metrics`); empty: no flow metrics, only pipeline health. */
  metrics?: string | readonly string[];
  metricsMaxSeries?: number;
  metricsExpireMs?: number;
  /** Redact sensitive L7 values before flows reach the ring, metrics or the relay (`--redact-*`). */
  redact?: RedactionOptions | null;
  /** HTTPS for /metrics; absent: HTTP. */
  metricsTls?: ServerTlsSpec | null;
  /** Plaintext grpc.health.v1 listener for probes (the Observer API may be TLS); null/absent: none. */
  healthListen?: string | null;
  /** TLS on the Observer API (client certificates required with client CAs) and to the relay. */
  tls?: { server: ServerTlsSpec | null; relay: ClientTlsSpec | null };
  /** On a stop signal: how long to wait for the relay's acks (default 5 s). */
  drainTimeoutMs?: number;
}

export interface RunningCollector {
  port: number;
  /** This run's session: its ring cursors' namespace, the shipper's session, rows' flow_session. */
  session: string;
  pipeline: CollectorPipeline;
  ring: FlowRing;
  queue: DecodeQueue;
  /** Flows lost, by Hubble LostEventSource: read it for metrics. */
  loss: LossCounters;
  /** Decoder counters for metrics: `decoder.stats` (records by outcome), `decoder.dnsStats`. */
  decoder: BuiltSource['decoder'];
  /** The Kubernetes watches with --k8s (`stats`: lists, watches, events, errors), else null. */
  kubernetes: KubernetesWatcher | null;
  shipper: Shipper | null;
  /** Port of the /metrics listener, 0 when disabled. */
  metricsPort: number;
  /** Port of the plaintext health listener, 0 when disabled. */
  healthPort: number;
  flowMetrics: FlowMetrics | null;
  /** The decoder's counters: records that produced no flow, by reason. */
  decodeStats: DecodeStats;
  /** Stops the source, then waits up to `drainTimeoutMs` (default 5 s) for the relay's acks. */
  stop(drainTimeoutMs?: number): Promise<void>;
  /** Resolves when a finite source has been read completely and shipped. */
  finished: Promise<void>;
}

/** Every certificate file of the collector, checked before anything starts (TlsConfigError). */
function loadCollectorTls(opts: CollectorOptions) {
  const log = createLogger('collector');
  const files: TlsFiles[] = [];
  try {
    // Each loaded set is remembered, so a later bad file stops the polling of the earlier ones.
    const keep = (f: TlsFiles): TlsFiles => (files.push(f), f);
    const serverSpec = opts.tls?.server ?? null;
    const relaySpec = opts.tls?.relay ?? null;
    const server = serverSpec ? keep(serverTlsFiles(serverSpec, log)) : null;
    const relay = relaySpec ? keep(clientTlsFiles(relaySpec, log)) : null;
    const metrics = opts.metricsAddr && opts.metricsTls ? keep(serverTlsFiles(opts.metricsTls, log)) : null;
    const guard = server?.material.ca !== undefined ? new ClientCertGuard({ require: { ingest: false, observer: true } }, log) : null;
    return {
      server: grpcServerCredentials(server, guard),
      relay: relay && relaySpec ? { files: relay, serverName: relaySpec.serverName, allowInsecure: relaySpec.allowInsecure } : null,
      metrics,
      guard,
      // The metrics server closes its own files.
      close: () => files.forEach((f) => f !== metrics && f.close()),
    };
  } catch (err) {
    for (const f of files) f.close();
    throw err;
  }
}

export async function startCollector(opts: CollectorOptions): Promise<RunningCollector> {
  tuneCollectorHeap();
  const tls = loadCollectorTls(opts);
  const startedMs = Date.now();
  const loss = new LossCounters();
  const DECODE_SLICE = 4096;
  // A follower may be one ring (plus the slice being published) behind, as in Hubble where
  // followers read the ring itself; further behind, it gets HUBBLE_RING_BUFFER LostEvents.
  const live = new LiveFeed(opts.ringCapacity + DECODE_SLICE, {
    lostSource: LostEventSource.HUBBLE_RING_BUFFER,
    onDrop: (n) => loss.add(LostEventSource.HUBBLE_RING_BUFFER, n),
  });
  const rate = new FlowRateMeter();
  const observerStats = { invalidRequests: 0 };
  const metricsConfig = opts.metrics ?? '';
  // Flow metrics only when something can scrape them (they also turn on DNS decoding).
  const flowMetrics =
    !opts.metricsAddr || (typeof metricsConfig === 'string' ? metricsConfig.trim() : metricsConfig.join(' ').trim()) === ''
      ? null
      : new FlowMetrics({ config: metricsConfig, maxSeriesPerMetric: opts.metricsMaxSeries, expireAfterMs: opts.metricsExpireMs });
  const { source, decoder, enricher, kubernetes, nodeName, redactor } = await createSource(opts.source, {
    nodeName: opts.nodeName,
    clusterName: opts.clusterName,
    inventoryPath: opts.inventory,
    kubernetes: opts.kubernetes,
    l7Dns: opts.l7Dns || flowMetrics?.needsDns,
    dnsPairing: opts.dnsPairing,
    version: VERSION,
    redact: opts.redact,
  });
  const log = createLogger('collector').child({ node: nodeName });
  if (kubernetes) {
    // Like Hubble waiting for its caches: flows decoded before the first list would be unnamed.
    const timeoutMs = opts.kubernetesSyncTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const synced = await Promise.race([
      kubernetes.start().then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (synced) log.info({ server: kubernetes.server, ...kubernetes.stats }, 'Kubernetes caches synced');
    else log.warn({ server: kubernetes.server, timeoutMs }, 'Kubernetes caches not synced yet; starting anyway (flows stay unnamed until they are)');
  }

  // One session for the ring's cursors and the shipper's rows (flow_session/flow_seq).
  const session = randomUUID();
  // Each flow is written once, into the Native blocks the ring keeps and the shipper sends.
  // Their buffers are reused once the ring and the relay's acknowledgement let go of them.
  const blocks = new FlowBlocks(session, opts.relay ? DEFAULT_FLOW_BLOCKS : { maxDelayMs: 0 }, new BlockPool());
  const ring = new FlowRing(opts.ringCapacity, loss, blocks);
  const server = new grpc.Server(countedServerOptions());
  addCountedService(
    server,
    ObserverService,
    observerHandlers(
      collectorObserverBackend({ nodeName, version: VERSION, ring, live, rate, startedMs, session, onInvalidResume: () => observerStats.invalidRequests++ }),
    ),
  );
  const health = new HealthImplementation({ '': 'SERVING', [OBSERVER_HEALTH_SERVICE]: 'SERVING' });
  health.addToServer(counting(server));
  const healthServer = opts.healthListen ? await startHealthServer(opts.healthListen, health) : null;
  let port: number;
  try {
    port = await bindServer(server, opts.listen, tls.server);
  } catch (err) {
    await healthServer?.close();
    throw err;
  }
  const advertise = opts.advertise ?? `127.0.0.1:${port}`;

  const spill = opts.spill ? { dir: opts.spill.dir ?? defaultSpillDir(nodeName), maxBytes: opts.spill.maxBytes } : null;
  const shipper = opts.relay
    ? new Shipper(
        {
          ...DEFAULT_SHIPPER_OPTIONS,
          relayAddress: opts.relay,
          nodeName,
          observerAddress: advertise,
          version: VERSION,
          maxUnackedFlows: opts.maxUnackedFlows,
          maxMemoryBytes: opts.maxUnackedBytes ?? DEFAULT_SHIPPER_OPTIONS.maxMemoryBytes,
          spill,
          tls: tls.relay,
          session,
          blocks,
        },
        log,
      )
    : null;
  if (shipper) shipper.onDrop = (n) => loss.add(LostEventSource.OBSERVER_EVENTS_QUEUE, n);
  else
    blocks.onWriteError = (n, err) => {
      log.error({ err: err.message, lost: n }, 'flows could not be written to the ring');
      loss.add(LostEventSource.OBSERVER_EVENTS_QUEUE, n);
    };
  await shipper?.start();
  const pipeline = new CollectorPipeline(decoder, enricher, ring, live, shipper, loss);
  pipeline.onFlows = (n) => rate.add(n);
  const queue = new DecodeQueue(pipeline, loss, {
    maxRecords: opts.decodeQueueSize ?? DEFAULT_DECODE_QUEUE.maxRecords,
    maxBytes: opts.decodeQueueBytes ?? DEFAULT_DECODE_QUEUE.maxBytes,
    sliceRecords: DECODE_SLICE,
  });
  let metricsServer: MetricsServer | null = null;
  if (opts.metricsAddr) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    grpcServerStats.register(registry);
    registerCollectorMetrics(registry, {
      pipeline: pipeline.stats,
      decoder: decoder.stats,
      ring,
      shipper,
      loss,
      queue,
      redaction: redactor?.stats,
      observer: observerStats,
    });
    const guard = tls.guard;
    if (guard)
      new ObservedMetric('flowscope_collector_tls_refused_calls_total', 'Observer API calls refused for lack of a valid client certificate', 'counter', () =>
        Number(guard.refused['observer:no_valid_certificate']),
      ).register(registry);
    if (flowMetrics) {
      flowMetrics.register(registry);
      flowMetrics.start();
      pipeline.observer = flowMetrics;
    }
    metricsServer = await startMetricsServer(opts.metricsAddr, registry, log, tls.metrics);
  }
  const warm = await warmUpPipeline(opts.warmupRecords ?? DEFAULT_WARMUP_RECORDS);
  if (warm.records > 0) log.info(warm, 'hot path warmed up before reading the source');
  await source.start(queue);
  log.info({ source: source.name, observer: port, relay: opts.relay ?? 'none', advertise, spill: shipper && spill ? spill.dir : 'none' }, 'collector started');

  const finished = (source.done ?? new Promise<void>(() => {})).then(async () => {
    await queue.idle();
    if (shipper) await shipper.drain(60_000);
    log.info({ flows: pipeline.stats.flowsDecoded, skipped: pipeline.stats.recordsSkipped, lost: loss.snapshot() }, 'source finished');
  });

  return {
    port,
    session,
    pipeline,
    ring,
    queue,
    loss,
    decoder,
    kubernetes,
    shipper,
    finished,
    flowMetrics,
    metricsPort: metricsServer?.port ?? 0,
    healthPort: healthServer?.port ?? 0,
    decodeStats: decoder.stats,
    async stop(drainTimeoutMs = 5_000) {
      await source.stop();
      queue.flush();
      await kubernetes?.stop();
      if (shipper) {
        const ok = await shipper.drain(drainTimeoutMs);
        if (!ok) log.warn({ unacked: shipper.stats.unackedFlows }, 'relay did not acknowledge every flow before shutdown');
        await shipper.stop();
        // The final counts (the metrics listener closes next): what was read, shipped, acknowledged.
        const st = shipper.stats;
        log.info(
          {
            flows: pipeline.stats.flowsDecoded,
            acked: st.flowsAcked,
            dropped: st.flowsDropped,
            unacked: st.unackedFlows,
            reconnects: st.reconnects,
            failovers: st.failovers,
          },
          'shipper stopped',
        );
      }
      blocks.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      await healthServer?.close();
      tls.close();
      flowMetrics?.stop();
      await metricsServer?.close();
    },
  };
}

/** Where a collector spills by default: its own directory under .flowscope/, like the relay's chdb/ and spool/. */
export function defaultSpillDir(nodeName: string): string {
  return path.join('.flowscope', `collector-${nodeName.replace(/[^A-Za-z0-9._-]/g, '_')}`, 'spill');
}

export async function runCollector(opts: CollectorOptions): Promise<void> {
  const log = createLogger('collector');
  const c = await startCollector(opts);
  const drainMs = opts.drainTimeoutMs ?? 5_000;
  // The drain plus time for everything else that stops.
  runUntilSignal(log, () => c.stop(drainMs), drainMs + 15_000);
}
