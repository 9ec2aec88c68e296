// `flowscope collector`: one per node. Wires a source through decode and enrichment into the
// ring (served on the node's Observer API) and the shipper (to the relay).
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { createLogger } from '../common/logger.js';
import { ObserverService, OBSERVER_HEALTH_SERVICE, bindServer } from '../common/grpc-services.js';
import { runUntilSignal } from '../common/lifecycle.js';
import { LiveFeed } from '../relay/observer/live.js';
import { observerHandlers } from '../relay/observer/service.js';
import { FlowRing } from './ring.js';
import { CollectorPipeline } from './pipeline.js';
import { Shipper, DEFAULT_SHIPPER_OPTIONS } from './ship/shipper.js';
import { collectorObserverBackend } from './observer-backend.js';
import { FlowRateMeter } from '../common/rate.js';
import { createSource, type SourceSpec } from './sources/registry.js';
import type { DecodeStats } from './decode/stats.js';

export const COLLECTOR_VERSION = '0.1.0';

export interface CollectorOptions {
  /** Required for file sources; a synthetic source defaults to the name of the node it plays. */
  nodeName?: string;
  source: SourceSpec;
  relay: string | null;
  listen: string;
  ringCapacity: number;
  inventory?: string;
  maxUnackedFlows: number;
  /** Advertised to the relay for GetNodes/ServerStatus; defaults to the listen address on loopback. */
  advertise?: string;
}

export interface RunningCollector {
  port: number;
  pipeline: CollectorPipeline;
  shipper: Shipper | null;
  /** The decoder's counters: records that produced no flow, by reason. */
  decodeStats: DecodeStats;
  /** Stops the source, then waits up to `drainTimeoutMs` (default 5 s) for the relay's acks. */
  stop(drainTimeoutMs?: number): Promise<void>;
  /** Resolves when a finite source has been read completely and shipped. */
  finished: Promise<void>;
}

export async function startCollector(opts: CollectorOptions): Promise<RunningCollector> {
  const startedMs = Date.now();
  const ring = new FlowRing(opts.ringCapacity);
  const live = new LiveFeed();
  const rate = new FlowRateMeter();
  const { source, decoder, enricher, nodeName } = await createSource(opts.source, { nodeName: opts.nodeName, inventoryPath: opts.inventory, version: COLLECTOR_VERSION });
  const log = createLogger('collector').child({ node: nodeName });

  const server = new grpc.Server();
  server.addService(ObserverService, observerHandlers(collectorObserverBackend({ nodeName, version: COLLECTOR_VERSION, ring, live, rate, startedMs })));
  const health = new HealthImplementation({ '': 'SERVING', [OBSERVER_HEALTH_SERVICE]: 'SERVING' });
  health.addToServer(server);
  const port = await bindServer(server, opts.listen);
  const advertise = opts.advertise ?? `127.0.0.1:${port}`;

  const shipper = opts.relay
    ? new Shipper({ ...DEFAULT_SHIPPER_OPTIONS, relayAddress: opts.relay, nodeName, observerAddress: advertise, version: COLLECTOR_VERSION, maxUnackedFlows: opts.maxUnackedFlows }, log)
    : null;
  shipper?.start();
  const pipeline = new CollectorPipeline(decoder, enricher, ring, live, shipper);
  pipeline.onFlows = (n) => rate.add(n);
  await source.start(pipeline);
  log.info({ source: source.name, observer: port, relay: opts.relay ?? 'none', advertise }, 'collector started');

  const finished = (source.done ?? new Promise<void>(() => {})).then(async () => {
    if (shipper) await shipper.drain(60_000);
    log.info({ flows: pipeline.stats.flowsDecoded, skipped: pipeline.stats.recordsSkipped }, 'source finished');
  });

  return {
    port, pipeline, shipper, finished, decodeStats: decoder.stats,
    async stop(drainTimeoutMs = 5_000) {
      await source.stop();
      if (shipper) {
        const ok = await shipper.drain(drainTimeoutMs);
        if (!ok) log.warn({ unacked: shipper.stats.unackedFlows }, 'relay did not acknowledge every flow before shutdown');
        await shipper.stop();
      }
      await new Promise<void>((r) => server.tryShutdown(() => r()));
    },
  };
}

export async function runCollector(opts: CollectorOptions): Promise<void> {
  const log = createLogger('collector');
  const c = await startCollector(opts);
  runUntilSignal(log, () => c.stop());
}
