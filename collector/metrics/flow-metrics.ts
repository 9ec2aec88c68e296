// The collector's Hubble-compatible flow metrics: the handlers named in `--metrics`, computed
// from every Flow the pipeline produces (where Hubble computes them: on the node), with a cap
// on series per family and expiry of label sets that stopped being updated.
import type { Registry } from 'prom-client';
import type { Flow } from '../../proto/types.js';
import { CounterFamily, ObservedMetric, type SeriesPolicy } from '../../common/metrics/family.js';
import type { FlowMetricHandler, HandlerFactory } from './handler.js';
import { parseMetricsConfig, type MetricHandlerName } from './options.js';
import { createFlowHandler } from './handlers/flow.js';
import { createDropHandler } from './handlers/drop.js';
import { createTcpHandler } from './handlers/tcp.js';
import { createIcmpHandler } from './handlers/icmp.js';
import { createPortDistributionHandler } from './handlers/port-distribution.js';
import { createFlowsToWorldHandler } from './handlers/flows-to-world.js';
import { createDnsHandler } from './handlers/dns.js';
import { createPolicyHandler } from './handlers/policy.js';

const FACTORIES: Record<MetricHandlerName, HandlerFactory> = {
  flow: createFlowHandler,
  drop: createDropHandler,
  tcp: createTcpHandler,
  icmp: createIcmpHandler,
  'port-distribution': createPortDistributionHandler,
  'flows-to-world': createFlowsToWorldHandler,
  dns: createDnsHandler,
  policy: createPolicyHandler,
};

export interface FlowMetricsOptions {
  /** Hubble metrics configuration, e.g. "drop:sourceContext=namespace flow dns:query". */
  config: string | readonly string[];
  /** Series per metric family (default 20,000). */
  maxSeriesPerMetric?: number;
  /** Label sets not updated for this long are removed (default 10 minutes; 0 = never). */
  expireAfterMs?: number;
}

export class FlowMetrics {
  readonly handlers: FlowMetricHandler[];
  private readonly refused = new Map<string, number>();
  private readonly expired = new Map<string, number>();
  private nowMs = Date.now();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly expireAfterMs: number;

  constructor(opts: FlowMetricsOptions) {
    this.expireAfterMs = opts.expireAfterMs ?? 10 * 60_000;
    const policy: SeriesPolicy = {
      maxSeries: opts.maxSeriesPerMetric ?? 20_000,
      expireAfterMs: this.expireAfterMs,
      onRefused: (m) => this.refused.set(m, (this.refused.get(m) ?? 0) + 1),
    };
    this.handlers = parseMetricsConfig(opts.config).map((spec) => FACTORIES[spec.name](spec.options, policy));
  }

  get families(): CounterFamily[] {
    return this.handlers.flatMap((h) => h.families);
  }

  /** Names of the handlers that need DNS payloads decoded into l7.dns. */
  get needsDns(): boolean {
    return this.handlers.some((h) => h.name === 'dns');
  }

  /** Called once per batch: one clock read for every flow of the batch. */
  beginBatch(): void {
    this.nowMs = Date.now();
  }

  process(flow: Flow): void {
    const now = this.nowMs;
    for (let i = 0; i < this.handlers.length; i++) this.handlers[i].process(flow, now);
  }

  /** Removes expired label sets of every family (the sweeper calls it every minute). */
  expire(nowMs = Date.now()): void {
    for (const f of this.families) {
      const n = f.expire(nowMs);
      if (n > 0) this.expired.set(f.name, (this.expired.get(f.name) ?? 0) + n);
    }
  }

  register(registry: Registry): void {
    for (const f of this.families) f.register(registry);
    const perFamily = (m: Map<string, number>) => () => this.families.map((f) => ({ labels: { metric: f.name }, value: m.get(f.name) ?? 0 }));
    new ObservedMetric(
      'flowscope_metrics_series_refused_total',
      'Increments not counted because their metric reached its series cap',
      'counter',
      perFamily(this.refused),
    ).register(registry);
    new ObservedMetric(
      'flowscope_metrics_series_expired_total',
      'Label sets removed after not being updated for the expiry period',
      'counter',
      perFamily(this.expired),
    ).register(registry);
    new ObservedMetric('flowscope_metrics_series', 'Series currently held per flow metric', 'gauge', () =>
      this.families.map((f) => ({ labels: { metric: f.name }, value: f.size })),
    ).register(registry);
  }

  start(): void {
    if (this.expireAfterMs <= 0 || this.sweeper) return;
    this.sweeper = setInterval(() => this.expire(), Math.min(60_000, Math.max(1000, this.expireAfterMs / 4)));
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}

/** Throws with a message when a `--metrics` configuration is invalid (names, options, contexts). */
export function validateMetricsConfig(config: string | readonly string[]): void {
  void new FlowMetrics({ config });
}
