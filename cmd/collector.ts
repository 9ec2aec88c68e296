// `flowscope collector`: read datapath records, decode, enrich, keep a ring, ship to the relay.
import { Command, Option } from 'commander';
import { UsageError } from '../api/query/usage-error.js';
import { healthListenOption, int, metricsAddr, metricsAddrOption, powerOfTwo, strict, usage } from '../api/cli/options.js';
import { DEFAULT_METRICS } from '../collector/metrics/options.js';
import { validateMetricsConfig } from '../collector/metrics/flow-metrics.js';
import { parseSourceKind, sourceUnavailable, type SourceSpec } from '../collector/sources/registry.js';
import { CLUSTER_NAME_RULE, isClusterName } from '../common/cluster-name.js';
import { redactOptions, redactionFromFlags, type RedactFlags } from './redact-flags.js';
import { parseScenarioWeights, SCENARIOS, type Scenario } from '../collector/synthetic/traffic.js';
import {
  addOptions,
  COLLECTOR_RELAY_TLS,
  METRICS_TLS,
  SERVER_TLS,
  serverTlsOptions,
  serverTlsSpec,
  serviceClientTlsOptions,
  serviceClientTlsSpec,
} from '../api/cli/tls-options.js';
import { DEFAULT_SPILL_MAX_BYTES } from '../collector/ship/spill.js';
import { parseRelayList } from '../collector/ship/shipper.js';
import { DEFAULT_DECODE_QUEUE } from '../collector/decode-queue.js';
import { DEFAULT_WARMUP_RECORDS } from '../collector/warmup.js';
import { DEFAULT_RING_CAPACITY } from '../collector/ring.js';

interface CollectorFlags extends RedactFlags {
  source: string;
  nodeName?: string;
  relay: string;
  listen: string;
  advertise?: string;
  inventory?: string;
  k8s?: boolean;
  kubeconfig?: string;
  clusterName?: string;
  podGrace: number;
  l7Dns?: boolean;
  dnsPairingSize: number;
  dnsPairingTimeout: number;
  decodeQueueSize: number;
  decodeQueueBytes: number;
  ringCapacity: number;
  warmupRecords: number;
  maxUnacked: number;
  maxUnackedBytes?: number;
  spillDir?: string;
  spillMaxBytes: number;
  count?: number;
  rate: number;
  seed: number;
  syntheticNode: string;
  syntheticNodes: number;
  policyDenySurge: number;
  syntheticWeights?: Partial<Record<Scenario, number>>;
  perfPages: number;
  perfWakeupBytes: number;
  aggregate: number;
  includeUnspecifiedDrops: boolean | string;
  cgroupRoot?: string;
  dns: boolean;
  metricsAddr: string;
  healthListen: string;
  metrics: string;
  metricsMaxSeries: number;
  metricsExpire: number;
  drainTimeout: number;
  [tlsFlag: string]: unknown;
}

function clusterNameArg(v: string): string {
  if (!isClusterName(v)) throw new UsageError(`invalid value "${v}" for --cluster-name: ${CLUSTER_NAME_RULE}`);
  return v;
}

/** The record source the flags describe, checked against what this node can do. */
function sourceSpec(o: CollectorFlags): SourceSpec {
  const kind = usage(() => parseSourceKind(o.source));
  const source: SourceSpec =
    kind === 'synthetic'
      ? {
          kind: 'synthetic',
          rate: o.rate,
          seed: o.seed,
          node: o.syntheticNode,
          clusterNodes: o.syntheticNodes,
          policyDenySurge: o.policyDenySurge,
          ...(o.syntheticWeights !== undefined ? { weights: o.syntheticWeights } : {}),
          ...(o.count !== undefined ? { count: o.count } : {}),
        }
      : kind === 'kernel'
        ? {
            kind: 'kernel',
            pages: o.perfPages,
            wakeupBytes: o.perfWakeupBytes,
            aggregateSeconds: o.aggregate,
            includeUnspecified: o.includeUnspecifiedDrops === true || o.includeUnspecifiedDrops === 'true',
            dns: o.dns !== false,
            ...(o.cgroupRoot !== undefined ? { cgroupRoot: o.cgroupRoot } : {}),
          }
        : 'cilium' in kind
          ? { kind: 'cilium', path: kind.cilium, pages: o.perfPages, wakeupBytes: o.perfWakeupBytes }
          : { kind: 'file', path: kind.file };
  if ((source.kind === 'kernel' || source.kind === 'cilium') && source.wakeupBytes >= source.pages * 4096) {
    throw new UsageError(`--perf-wakeup-bytes (${source.wakeupBytes}) must be smaller than the ring (--perf-pages × 4096 = ${source.pages * 4096})`);
  }
  if (o.count !== undefined && source.kind !== 'synthetic') throw new UsageError('--count is for the synthetic source');
  if (o.cgroupRoot !== undefined && source.kind !== 'kernel') throw new UsageError('--cgroup-root is for the kernel source');
  if (o.syntheticWeights !== undefined && source.kind !== 'synthetic') throw new UsageError('--synthetic-weights is for the synthetic source');
  const why = sourceUnavailable(source);
  if (why !== null) throw new UsageError(`source ${source.kind} is unavailable on this node: ${why}`);
  return source;
}

export function collectorCommand(): Command {
  const cmd = strict(new Command('collector'))
    .description('Run a node collector: read datapath records, decode, enrich, keep a ring, ship to the relay')
    .addOption(
      new Option('--source <source>', 'Record source: synthetic | file:PATH | cilium[:PATH] (default PATH /sys/fs/bpf/tc/globals/cilium_events) | kernel')
        .env('FLOWSCOPE_SOURCE')
        .default('synthetic'),
    )
    .addOption(new Option('--node-name <name>', "This node's name (default: the synthetic node's name)").env('FLOWSCOPE_NODE_NAME'))
    .addOption(
      new Option(
        '--relay <address>',
        'Relay to ship flows to; several as host:port,host:port (spread by node name, failover to the next), or a DNS name with several addresses ("none" to only serve the local API)',
      )
        .env('FLOWSCOPE_RELAY')
        .default('localhost:4245'),
    )
    .addOption(new Option('--listen <address>', 'Observer API listen address for this node').env('FLOWSCOPE_COLLECTOR_LISTEN').default('0.0.0.0:4244'))
    .addOption(new Option('--advertise <address>', 'Observer API address the relay should use (default: 127.0.0.1:<port>)').env('FLOWSCOPE_ADVERTISE'))
    .addOption(new Option('--inventory <file>', 'Static inventory JSON for enrichment (IP → pod/namespace/labels/workload/service)').env('FLOWSCOPE_INVENTORY'))
    .addOption(new Option('--k8s', 'Enrich from the Kubernetes API (watch pods, services, nodes); in-cluster config inside a pod').env('FLOWSCOPE_K8S'))
    .addOption(new Option('--kubeconfig <file>', 'with --k8s: kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)'))
    .addOption(
      new Option(
        '--cluster-name <name>',
        "Cluster name on every flow: its endpoints' cluster_name and node names cluster/node (default: \"default\", unprefixed; synthetic: the synthetic cluster's name; --inventory: the inventory's)",
      )
        .env('FLOWSCOPE_CLUSTER_NAME')
        .argParser(clusterNameArg),
    )
    .addOption(
      new Option('--pod-grace <seconds>', "with --k8s: how long a deleted pod's IP still resolves")
        .env('FLOWSCOPE_POD_GRACE')
        .default(30)
        .argParser(int('pod-grace', 0, 3600)),
    )
    .addOption(new Option('--l7-dns', 'Report DNS seen in packets as Hubble L7 DNS flows (query/response, latency)').env('FLOWSCOPE_L7_DNS'))
    .addOption(
      new Option('--dns-pairing-size <n>', 'with --l7-dns: DNS queries awaiting their response, at most')
        .env('FLOWSCOPE_DNS_PAIRING_SIZE')
        .default(10_000)
        .argParser(int('dns-pairing-size', 1, 10_000_000)),
    )
    .addOption(
      new Option('--dns-pairing-timeout <ms>', 'with --l7-dns: how long a DNS query waits for its response')
        .env('FLOWSCOPE_DNS_PAIRING_TIMEOUT')
        .default(10_000)
        .argParser(int('dns-pairing-timeout', 1, 3_600_000)),
    )
    .addOption(
      new Option('--decode-queue-size <n>', 'Records waiting for the decoder at most; beyond it they are dropped and reported as lost')
        .env('FLOWSCOPE_DECODE_QUEUE_SIZE')
        .default(65_536)
        .argParser(int('decode-queue-size', 1, 100_000_000)),
    )
    .addOption(
      new Option('--decode-queue-bytes <n>', 'Bytes those records hold at most (payload + 256 bytes each); beyond it they are dropped and reported as lost')
        .env('FLOWSCOPE_DECODE_QUEUE_BYTES')
        .default(DEFAULT_DECODE_QUEUE.maxBytes)
        .argParser(int('decode-queue-bytes', 1 << 16, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      new Option(
        '--warmup-records <n>',
        'Generated records run through the decoder and block writer before the source is read, so the first real records meet optimised code (0: none)',
      )
        .env('FLOWSCOPE_WARMUP_RECORDS')
        .default(DEFAULT_WARMUP_RECORDS)
        .argParser(int('warmup-records', 0, 10_000_000)),
    )
    .addOption(
      new Option('--ring-capacity <n>', "Flows kept for this node's Observer API")
        .env('FLOWSCOPE_RING_CAPACITY')
        .default(DEFAULT_RING_CAPACITY)
        .argParser(int('ring-capacity', 1, 10_000_000)),
    )
    .addOption(
      new Option(
        '--max-unacked <n>',
        'Flows buffered for the relay in memory; beyond it older batches spill to --spill-dir, or with --spill-dir none new flows are dropped (counted)',
      )
        .env('FLOWSCOPE_MAX_UNACKED')
        .default(200_000)
        .argParser(int('max-unacked', 1, 100_000_000)),
    )
    .addOption(
      new Option(
        '--max-unacked-bytes <n>',
        'Encoded bytes of batches buffered for the relay in memory; beyond it older batches spill to --spill-dir (ignored with --spill-dir none; default 8 MiB)',
      )
        .env('FLOWSCOPE_MAX_UNACKED_BYTES')
        .argParser(int('max-unacked-bytes', 1 << 20, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      new Option(
        '--spill-dir <path>',
        'Directory batches spill to while the relay is away, replayed in order when it is back and after a restart ("none": no spill; default .flowscope/collector-<node>/spill)',
      ).env('FLOWSCOPE_SPILL_DIR'),
    )
    .addOption(
      new Option('--spill-max-bytes <n>', 'Disk budget of --spill-dir; once spent, new flows are dropped (counted)')
        .env('FLOWSCOPE_SPILL_MAX_BYTES')
        .default(DEFAULT_SPILL_MAX_BYTES)
        .argParser(int('spill-max-bytes', 1 << 20, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      new Option('--rate <n>', 'synthetic: records per second')
        .env('FLOWSCOPE_SYNTHETIC_RATE')
        .default(50)
        .argParser(int('rate', 0, 10_000_000)),
    )
    .addOption(
      new Option('--count <n>', 'synthetic: stop after this many records (the collector keeps serving; default: never stop)').argParser(
        int('count', 1, Number.MAX_SAFE_INTEGER),
      ),
    )
    .addOption(new Option('--seed <n>', 'synthetic: cluster and traffic seed').default(1).argParser(int('seed')))
    .addOption(new Option('--synthetic-node <name|index>', 'synthetic: which node of the synthetic cluster this collector plays').default('1'))
    .addOption(new Option('--synthetic-nodes <n>', 'synthetic: nodes in the synthetic cluster').default(4).argParser(int('synthetic-nodes', 2, 100)))
    .addOption(new Option('--policy-deny-surge <factor>', 'synthetic: multiply policy-denied traffic').default(1).argParser(int('policy-deny-surge', 0, 1000)))
    .addOption(
      new Option(
        '--synthetic-weights <name=weight,...>',
        `synthetic: scenario weights (${SCENARIOS.join(', ')}); e.g. "refused=5,mtu=5,http=0". refused, unanswered, mtu and dnsFail are 0 unless given`,
      ).argParser((v: string) => {
        try {
          return parseScenarioWeights(v);
        } catch (err) {
          throw new UsageError(`invalid --synthetic-weights: ${(err as Error).message}`);
        }
      }),
    )
    .addOption(
      new Option('--perf-pages <n>', 'cilium, kernel: perf ring pages per CPU (power of two)')
        .env('FLOWSCOPE_PERF_PAGES')
        .default(256)
        .argParser(powerOfTwo('perf-pages', 1, 65536)),
    )
    .addOption(
      new Option('--perf-wakeup-bytes <n>', 'cilium, kernel: wake the reader when this many bytes wait in a ring (0 = every record); smaller than the ring')
        .env('FLOWSCOPE_PERF_WAKEUP_BYTES')
        .default(32768)
        .argParser(int('perf-wakeup-bytes', 0, 2 ** 31)),
    )
    .addOption(
      new Option('--aggregate <seconds>', 'kernel: UDP flows reported once per flow and direction per interval (0 = every packet)')
        .env('FLOWSCOPE_KERNEL_AGGREGATE')
        .default(5)
        .argParser(int('aggregate', 0, 3600)),
    )
    .addOption(
      new Option('--include-unspecified-drops', 'kernel: also report drops whose kernel reason is NOT_SPECIFIED (noisy)')
        .env('FLOWSCOPE_KERNEL_INCLUDE_UNSPECIFIED')
        .default(false),
    )
    .addOption(
      new Option(
        '--cgroup-root <path>',
        'kernel: cgroup v2 directory the UDP hooks attach to (default: the first cgroup2 mount; in a pod, the host hierarchy mounted from the node)',
      ).env('FLOWSCOPE_CGROUP_ROOT'),
    )
    .addOption(new Option('--no-dns', 'kernel: do not report DNS (UDP/53) packets individually with their payload'))
    .addOption(metricsAddrOption(':9965'))
    .addOption(healthListenOption())
    .addOption(
      new Option(
        '--metrics <config>',
        'Hubble flow metrics, Hubble\'s syntax: "drop:sourceContext=namespace;destinationContext=pod flow dns:query" (space or comma separated; "" = none)',
      )
        .env('FLOWSCOPE_METRICS')
        .default(DEFAULT_METRICS)
        .argParser((v: string) => {
          try {
            validateMetricsConfig(v);
          } catch (err) {
            throw new UsageError(`invalid --metrics: ${(err as Error).message}`);
          }
          return v;
        }),
    )
    .addOption(
      new Option('--metrics-max-series <n>', 'Series per flow metric; new label sets beyond it are refused (counted)')
        .env('FLOWSCOPE_METRICS_MAX_SERIES')
        .default(20_000)
        .argParser(int('metrics-max-series', 1, 10_000_000)),
    )
    .addOption(
      new Option('--metrics-expire <seconds>', 'Remove flow metric label sets not updated for this long (0 = never)')
        .env('FLOWSCOPE_METRICS_EXPIRE')
        .default(600)
        .argParser(int('metrics-expire', 0, 86_400 * 30)),
    )
    .addOption(
      new Option(
        '--drain-timeout <ms>',
        'On SIGTERM/SIGINT: how long to wait for the relay to acknowledge what was read (the rest spills, or is dropped without a spill)',
      )
        .env('FLOWSCOPE_DRAIN_TIMEOUT_MS')
        .default(5000)
        .argParser(int('drain-timeout', 0, 3_600_000)),
    );
  for (const opt of redactOptions()) cmd.addOption(opt);
  addOptions(
    cmd,
    serverTlsOptions(SERVER_TLS, 'Observer API', 'every caller (the relay too) must present one'),
    serviceClientTlsOptions(COLLECTOR_RELAY_TLS, 'Relay (also: a tls:// --relay address)'),
    serverTlsOptions(METRICS_TLS, '/metrics listener', 'scrapers must present one'),
  );
  return cmd.action(async (o: CollectorFlags) => {
    const source = sourceSpec(o);
    const redact = redactionFromFlags(o);
    // tls:// (hubble's prefix) asks for TLS to the relay even without CA or certificate flags.
    const relay = o.relay === 'none' ? null : o.relay.replace(/^tls:\/\//, '');
    if (relay !== null) {
      try {
        parseRelayList(relay);
      } catch (err) {
        throw new UsageError(`invalid value "${o.relay}" for --relay: ${(err as Error).message}`);
      }
    }
    const relayTls = relay === null ? null : serviceClientTlsSpec(o, COLLECTOR_RELAY_TLS, o.relay.startsWith('tls://'));
    const serverTls = serverTlsSpec(o, SERVER_TLS);
    const metricsTls = serverTlsSpec(o, METRICS_TLS);
    if (o.k8s && o.inventory) throw new UsageError('--k8s and --inventory are alternatives: give one');
    if (!o.k8s && o.kubeconfig) throw new UsageError('--kubeconfig needs --k8s');
    const kubernetes = o.k8s ? { kubeconfig: o.kubeconfig, clusterName: o.clusterName ?? 'default', podGraceMs: o.podGrace * 1000 } : undefined;
    const { runCollector } = await import('../collector/main.js');
    await runCollector({
      nodeName: o.nodeName,
      clusterName: o.clusterName,
      source,
      relay,
      listen: o.listen,
      advertise: o.advertise,
      inventory: o.inventory,
      kubernetes,
      l7Dns: !!o.l7Dns,
      dnsPairing: { maxEntries: o.dnsPairingSize, timeoutMs: o.dnsPairingTimeout },
      decodeQueueSize: o.decodeQueueSize,
      decodeQueueBytes: o.decodeQueueBytes,
      ringCapacity: o.ringCapacity,
      warmupRecords: o.warmupRecords,
      maxUnackedFlows: o.maxUnacked,
      maxUnackedBytes: o.maxUnackedBytes,
      spill: o.spillDir === 'none' ? null : { dir: o.spillDir, maxBytes: o.spillMaxBytes },
      metricsAddr: metricsAddr(o.metricsAddr),
      healthListen: metricsAddr(o.healthListen),
      metrics: o.metrics,
      metricsMaxSeries: o.metricsMaxSeries,
      metricsExpireMs: o.metricsExpire * 1000,
      redact,
      drainTimeoutMs: o.drainTimeout,
      ...(metricsTls ? { metricsTls } : {}),
      ...(serverTls || relayTls ? { tls: { server: serverTls, relay: relayTls } } : {}),
    });
  });
}
