// The single `flowscope` executable: long-running services (relay, collector, api, up) and the
// clients (observe, status, list nodes). Bad usage exits 2 with the command's usage.
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import * as grpc from '@grpc/grpc-js';
import { buildObserveCommand, DEFAULT_SERVER } from './observe-flags.js';
import { UsageError } from './observe-errors.js';
import { runObserve } from './observe.js';
import { runUp } from './up.js';
import { parseListenAddress } from '../../common/metrics/server.js';
import { DEFAULT_METRICS } from '../../collector/metrics/options.js';
import { validateMetricsConfig } from '../../collector/metrics/flow-metrics.js';
import { buildExportCommand } from './export.js';
import { parseStoreTarget } from './store-target.js';
import { parseBrokers } from '../../relay/kafka/brokers.js';
import { insightsCommand, INSIGHTS_QUERIES } from './insights.js';
import { ObserverApiClient } from '../client.js';
import { formatHealthcheck, healthStatusText, formatServerStatus, statusOutputFormat, formatNodes, NODES_OUTPUT_FORMATS, type NodesOutputFormat, formatNamespaces, NAMESPACES_OUTPUT_FORMATS, type NamespacesOutputFormat } from '../printer/index.js';

function int(name: string, min = 0, max = 2 ** 31) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError(`invalid value "${v}" for --${name}: expected an integer`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`invalid value "${v}" for --${name}: must be between ${min} and ${max}`);
    return n;
  };
}

function powerOfTwo(name: string, min: number, max: number): (v: string) => number {
  const parse = int(name, min, max);
  return (v: string) => {
    const n = parse(v);
    if ((n & (n - 1)) !== 0) throw new UsageError(`invalid value "${v}" for --${name}: must be a power of two`);
    return n;
  };
}

function brokers(v: string): string[] {
  try { return parseBrokers(v); } catch (err) { throw new UsageError((err as Error).message); }
}

/** commander errors become UsageError; help and version exit 0 as usual. */
function strict(cmd: Command): Command {
  return cmd.exitOverride((err: CommanderError) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') throw err;
    throw new UsageError(err.message.replace(/^error: /, ''));
  }).configureOutput({ outputError: () => {} }).allowExcessArguments(false);
}

/** `--metrics-addr`: a [host]:port, or "none" to run without a metrics listener. */
function metricsAddrOption(def: string): Option {
  return new Option('--metrics-addr <address>', 'Prometheus /metrics listen address ("none" to disable)').env('FLOWSCOPE_METRICS_ADDR').default(def)
    .argParser((v: string) => {
      if (v === 'none') return v;
      try { parseListenAddress(v); } catch (err) { throw new UsageError((err as Error).message); }
      return v;
    });
}

function serverOption(): Option {
  return new Option('--server <address>', 'Address of the relay or collector Observer API').env('HUBBLE_SERVER').default(DEFAULT_SERVER);
}

/** `flowscope list <what>`: one Observer API call, printed as table, wide or json. */
function listCommand(what: string, description: string, formats: readonly string[], render: (c: ObserverApiClient, output: string) => Promise<string>): Command {
  return strict(new Command(what))
    .description(description)
    .addOption(serverOption())
    .option('-o, --output <format>', 'table, wide or json', 'table')
    .action(async (o) => {
      if (!formats.includes(o.output)) throw new UsageError(`invalid output format "${o.output}"`);
      const client = new ObserverApiClient(o.server, 5000);
      try {
        process.stdout.write(await render(client, o.output));
      } catch (err) {
        throw new Error(`failed to list ${what} from ${o.server}: ${(err as grpc.ServiceError).details || (err as Error).message}`);
      } finally {
        client.close();
      }
    });
}

export function buildProgram(): Command {
  const program = strict(new Command('flowscope'))
    .description('Network-flow observability for Kubernetes: collectors, a Hubble-compatible relay, ClickHouse history')
    .version('0.1.0');

  program.addCommand(strict(new Command('relay'))
    .description('Run the relay: collector ingest, ClickHouse storage and the Hubble Observer API')
    .addOption(new Option('--listen <address>', 'gRPC listen address (Observer API and ingest)').env('FLOWSCOPE_RELAY_LISTEN').default('0.0.0.0:4245'))
    .addOption(new Option('--node-name <name>', 'Name the relay uses in status events').env('FLOWSCOPE_NODE_NAME').default('flowscope-relay'))
    .addOption(new Option('--data-dir <path>', 'Embedded ClickHouse (chDB) data directory').env('FLOWSCOPE_DATA_DIR').default('.flowscope/chdb'))
    .addOption(new Option('--clickhouse-url <url>', 'Use a ClickHouse server instead of embedded chDB').env('FLOWSCOPE_CLICKHOUSE_URL'))
    .addOption(new Option('--clickhouse-user <user>').env('FLOWSCOPE_CLICKHOUSE_USER'))
    .addOption(new Option('--clickhouse-password <password>').env('FLOWSCOPE_CLICKHOUSE_PASSWORD'))
    .addOption(new Option('--clickhouse-database <db>').env('FLOWSCOPE_CLICKHOUSE_DATABASE'))
    .addOption(new Option('--clickhouse-cluster <name>', 'ClickHouse cluster whose schema was applied from `flowscope schema --cluster` (no migrations run)').env('FLOWSCOPE_CLICKHOUSE_CLUSTER'))
    .addOption(new Option('--retention-days <n>', 'Flows older than this are deleted (TTL)').env('FLOWSCOPE_RETENTION_DAYS').default(7).argParser(int('retention-days', 1, 3650)))
    .addOption(new Option('--rollup-retention-days <n>', 'Per-minute rollup TTL in days (default max(retention, 30))').env('FLOWSCOPE_ROLLUP_RETENTION_DAYS').argParser(int('rollup-retention-days', 1, 3650)))
    .addOption(new Option('--flush-interval <ms>', 'Longest a flow waits before its storage insert').env('FLOWSCOPE_FLUSH_INTERVAL_MS').default(250).argParser(int('flush-interval', 1, 60_000)))
    .addOption(new Option('--batch-rows <n>', 'Rows per storage insert').env('FLOWSCOPE_BATCH_ROWS').default(50_000).argParser(int('batch-rows', 1, 10_000_000)))
    .addOption(new Option('--spool-dir <path>', 'Directory batches are spooled to while ClickHouse is unreachable ("none": no spool; default: spool/ beside --data-dir)').env('FLOWSCOPE_SPOOL_DIR'))
    .addOption(new Option('--spool-max-bytes <n>', 'Spool size limit; when full, ingest pauses (collectors buffer) instead of dropping').env('FLOWSCOPE_SPOOL_MAX_BYTES').default(1024 ** 3).argParser(int('spool-max-bytes', 1 << 20, Number.MAX_SAFE_INTEGER)))
    .addOption(new Option('--spool-segment-bytes <n>', 'Size of one spool segment file').env('FLOWSCOPE_SPOOL_SEGMENT_BYTES').default(64 * 1024 ** 2).argParser(int('spool-segment-bytes', 4096, 2 ** 31)))
    .addOption(new Option('--insert-timeout <ms>', 'A storage insert slower than this spools its batch').env('FLOWSCOPE_INSERT_TIMEOUT_MS').default(10_000).argParser(int('insert-timeout', 100, 3_600_000)))
    .addOption(new Option('--kafka-brokers <host:port,...>', 'Kafka mode: produce batches to Kafka (acked to collectors once Kafka has them); `flowscope ingester` stores them').env('FLOWSCOPE_KAFKA_BROKERS'))
    .addOption(new Option('--kafka-topic <name>', 'Kafka topic for flow batches').env('FLOWSCOPE_KAFKA_TOPIC').default('flowscope-flows'))
    .addOption(new Option('--kafka-compression <codec>', 'Compression of produced batches').env('FLOWSCOPE_KAFKA_COMPRESSION').choices(['gzip', 'none']).default('gzip'))
    .addOption(new Option('--kafka-idempotent', 'Idempotent producer (real Kafka; not supported by test mock clusters)').env('FLOWSCOPE_KAFKA_IDEMPOTENT'))
    .addOption(new Option('--kafka-ingest [group]', 'Kafka mode: also run an ingester (this consumer group) in the relay, into the relay\'s own store (needed with chDB, whose directory one process owns)').env('FLOWSCOPE_KAFKA_INGEST'))
    .addOption(metricsAddrOption(':9966'))
    .action(async (o) => {
      const { runRelay } = await import('../../relay/main.js');
      const kafka = o.kafkaBrokers === undefined ? undefined : { brokers: brokers(o.kafkaBrokers), topic: o.kafkaTopic, compression: o.kafkaCompression, idempotent: !!o.kafkaIdempotent,
        ...(o.kafkaIngest ? { ingestGroup: o.kafkaIngest === true ? 'flowscope-ingester' : String(o.kafkaIngest) } : {}) };
      if (o.kafkaIngest && !kafka) throw new UsageError('--kafka-ingest needs --kafka-brokers');
      const spoolDir: string = o.spoolDir ?? path.join(path.dirname(path.resolve(o.dataDir)), 'spool');
      const spool = spoolDir === 'none' ? null : { dir: spoolDir, maxBytes: o.spoolMaxBytes, segmentBytes: Math.min(o.spoolSegmentBytes, o.spoolMaxBytes), insertTimeoutMs: o.insertTimeout };
      await runRelay({ listen: o.listen, nodeName: o.nodeName, dataDir: o.dataDir, clickhouseUrl: o.clickhouseUrl, clickhouseUser: o.clickhouseUser, clickhousePassword: o.clickhousePassword, clickhouseDatabase: o.clickhouseDatabase, clickhouseCluster: o.clickhouseCluster, retentionDays: o.retentionDays, rollupRetentionDays: o.rollupRetentionDays, flushIntervalMs: o.flushInterval, batchRows: o.batchRows, spool: kafka ? null : spool, ...(kafka ? { kafka } : {}),
        metricsAddr: o.metricsAddr === 'none' ? null : o.metricsAddr });
    }));

  program.addCommand(strict(new Command('collector'))
    .description('Run a node collector: read datapath records, decode, enrich, keep a ring, ship to the relay')
    .addOption(new Option('--source <source>', 'Record source: synthetic | file:PATH | cilium[:PATH] (default PATH /sys/fs/bpf/tc/globals/cilium_events) | kernel').env('FLOWSCOPE_SOURCE').default('synthetic'))
    .addOption(new Option('--node-name <name>', 'This node\'s name (default: the synthetic node\'s name)').env('FLOWSCOPE_NODE_NAME'))
    .addOption(new Option('--relay <address>', 'Relay to ship flows to ("none" to only serve the local API)').env('FLOWSCOPE_RELAY').default('localhost:4245'))
    .addOption(new Option('--listen <address>', 'Observer API listen address for this node').env('FLOWSCOPE_COLLECTOR_LISTEN').default('0.0.0.0:4244'))
    .addOption(new Option('--advertise <address>', 'Observer API address the relay should use (default: 127.0.0.1:<port>)').env('FLOWSCOPE_ADVERTISE'))
    .addOption(new Option('--inventory <file>', 'Static inventory JSON for enrichment (IP → pod/namespace/labels/workload/service)').env('FLOWSCOPE_INVENTORY'))
    .addOption(new Option('--k8s', 'Enrich from the Kubernetes API (watch pods, services, nodes); in-cluster config inside a pod').env('FLOWSCOPE_K8S'))
    .addOption(new Option('--kubeconfig <file>', 'with --k8s: kubeconfig file (default: in-cluster, else $KUBECONFIG or ~/.kube/config)'))
    .addOption(new Option('--cluster-name <name>', 'with --k8s: cluster name for endpoints and node names').env('FLOWSCOPE_CLUSTER_NAME').default('default'))
    .addOption(new Option('--pod-grace <seconds>', 'with --k8s: how long a deleted pod\'s IP still resolves').env('FLOWSCOPE_POD_GRACE').default(30).argParser(int('pod-grace', 0, 3600)))
    .addOption(new Option('--l7-dns', 'Report DNS seen in packets as Hubble L7 DNS flows (query/response, latency)').env('FLOWSCOPE_L7_DNS'))
    .addOption(new Option('--dns-pairing-size <n>', 'with --l7-dns: DNS queries awaiting their response, at most').env('FLOWSCOPE_DNS_PAIRING_SIZE').default(10_000).argParser(int('dns-pairing-size', 1, 10_000_000)))
    .addOption(new Option('--dns-pairing-timeout <ms>', 'with --l7-dns: how long a DNS query waits for its response').env('FLOWSCOPE_DNS_PAIRING_TIMEOUT').default(10_000).argParser(int('dns-pairing-timeout', 1, 3_600_000)))
    .addOption(new Option('--decode-queue-size <n>', 'Records waiting for the decoder at most; beyond it they are dropped and reported as lost').env('FLOWSCOPE_DECODE_QUEUE_SIZE').default(65_536).argParser(int('decode-queue-size', 1, 100_000_000)))
    .addOption(new Option('--ring-capacity <n>', 'Flows kept for this node\'s Observer API').env('FLOWSCOPE_RING_CAPACITY').default(4095).argParser(int('ring-capacity', 1, 10_000_000)))
    .addOption(new Option('--max-unacked <n>', 'Flows buffered for the relay before new ones are dropped (counted)').env('FLOWSCOPE_MAX_UNACKED').default(200_000).argParser(int('max-unacked', 1, 100_000_000)))
    .addOption(new Option('--rate <n>', 'synthetic: records per second').env('FLOWSCOPE_SYNTHETIC_RATE').default(50).argParser(int('rate', 0, 10_000_000)))
    .addOption(new Option('--seed <n>', 'synthetic: cluster and traffic seed').default(1).argParser(int('seed')))
    .addOption(new Option('--synthetic-node <name|index>', 'synthetic: which node of the synthetic cluster this collector plays').default('1'))
    .addOption(new Option('--synthetic-nodes <n>', 'synthetic: nodes in the synthetic cluster').default(4).argParser(int('synthetic-nodes', 2, 100)))
    .addOption(new Option('--policy-deny-surge <factor>', 'synthetic: multiply policy-denied traffic').default(1).argParser(int('policy-deny-surge', 0, 1000)))
    .addOption(new Option('--perf-pages <n>', 'cilium, kernel: perf ring pages per CPU (power of two)').env('FLOWSCOPE_PERF_PAGES').default(256).argParser(powerOfTwo('perf-pages', 1, 65536)))
    .addOption(new Option('--perf-wakeup-bytes <n>', 'cilium, kernel: wake the reader when this many bytes wait in a ring (0 = every record); smaller than the ring').env('FLOWSCOPE_PERF_WAKEUP_BYTES').default(32768).argParser(int('perf-wakeup-bytes', 0, 2 ** 31)))
    .addOption(new Option('--aggregate <seconds>', 'kernel: UDP flows reported once per flow and direction per interval (0 = every packet)').env('FLOWSCOPE_KERNEL_AGGREGATE').default(5).argParser(int('aggregate', 0, 3600)))
    .addOption(new Option('--include-unspecified-drops', 'kernel: also report drops whose kernel reason is NOT_SPECIFIED (noisy)').env('FLOWSCOPE_KERNEL_INCLUDE_UNSPECIFIED').default(false))
    .addOption(new Option('--no-dns', 'kernel: do not report DNS (UDP/53) packets individually with their payload'))
    .addOption(metricsAddrOption(':9965'))
    .addOption(new Option('--metrics <config>', 'Hubble flow metrics, Hubble\'s syntax: "drop:sourceContext=namespace;destinationContext=pod flow dns:query" (space or comma separated; "" = none)')
      .env('FLOWSCOPE_METRICS').default(DEFAULT_METRICS)
      .argParser((v: string) => { try { validateMetricsConfig(v); } catch (err) { throw new UsageError(`invalid --metrics: ${(err as Error).message}`); } return v; }))
    .addOption(new Option('--metrics-max-series <n>', 'Series per flow metric; new label sets beyond it are refused (counted)').env('FLOWSCOPE_METRICS_MAX_SERIES').default(20_000).argParser(int('metrics-max-series', 1, 10_000_000)))
    .addOption(new Option('--metrics-expire <seconds>', 'Remove flow metric label sets not updated for this long (0 = never)').env('FLOWSCOPE_METRICS_EXPIRE').default(600).argParser(int('metrics-expire', 0, 86_400 * 30)))
    .action(async (o) => {
      const { runCollector } = await import('../../collector/main.js');
      const { parseSourceKind } = await import('../../collector/sources/registry.js');
      let kind: ReturnType<typeof parseSourceKind>;
      try { kind = parseSourceKind(o.source); } catch (err) { throw new UsageError((err as Error).message); }
      const { sourceUnavailable } = await import('../../collector/sources/registry.js');
      type Spec = import('../../collector/sources/registry.js').SourceSpec;
      const source: Spec = kind === 'synthetic'
        ? { kind: 'synthetic', rate: o.rate, seed: o.seed, node: o.syntheticNode, clusterNodes: o.syntheticNodes, policyDenySurge: o.policyDenySurge }
        : kind === 'kernel'
          ? { kind: 'kernel', pages: o.perfPages, wakeupBytes: o.perfWakeupBytes, aggregateSeconds: o.aggregate, includeUnspecified: o.includeUnspecifiedDrops === true || o.includeUnspecifiedDrops === 'true', dns: o.dns !== false }
          : 'cilium' in kind ? { kind: 'cilium', path: kind.cilium, pages: o.perfPages, wakeupBytes: o.perfWakeupBytes } : { kind: 'file', path: kind.file };
      if ((source.kind === 'kernel' || source.kind === 'cilium') && source.wakeupBytes >= source.pages * 4096) {
        throw new UsageError(`--perf-wakeup-bytes (${source.wakeupBytes}) must be smaller than the ring (--perf-pages × 4096 = ${source.pages * 4096})`);
      }
      if (o.k8s && o.inventory) throw new UsageError('--k8s and --inventory are alternatives: give one');
      if (!o.k8s && o.kubeconfig) throw new UsageError('--kubeconfig needs --k8s');
      const why = sourceUnavailable(source);
      if (why !== null) throw new UsageError(`source ${source.kind} is unavailable on this node: ${why}`);
      const kubernetes = o.k8s ? { kubeconfig: o.kubeconfig, clusterName: o.clusterName, podGraceMs: o.podGrace * 1000 } : undefined;
      await runCollector({ nodeName: o.nodeName, source, relay: o.relay === 'none' ? null : o.relay, listen: o.listen, advertise: o.advertise, inventory: o.inventory, kubernetes, l7Dns: !!o.l7Dns, dnsPairing: { maxEntries: o.dnsPairingSize, timeoutMs: o.dnsPairingTimeout }, decodeQueueSize: o.decodeQueueSize, ringCapacity: o.ringCapacity, maxUnackedFlows: o.maxUnacked,
        metricsAddr: o.metricsAddr === 'none' ? null : o.metricsAddr, metrics: o.metrics, metricsMaxSeries: o.metricsMaxSeries, metricsExpireMs: o.metricsExpire * 1000 });
    }));

  program.addCommand(strict(buildObserveCommand(runObserve, { isTTY: process.stdout.isTTY, env: process.env })));

  program.addCommand(strict(new Command('ingester'))
    .description('Kafka mode: consume the relay\'s flow batches from Kafka and store them in ClickHouse (one consumer group member)')
    .addOption(new Option('--kafka-brokers <host:port,...>', 'Kafka bootstrap brokers').env('FLOWSCOPE_KAFKA_BROKERS').makeOptionMandatory())
    .addOption(new Option('--kafka-topic <name>', 'Kafka topic for flow batches').env('FLOWSCOPE_KAFKA_TOPIC').default('flowscope-flows'))
    .addOption(new Option('--group <id>', 'Consumer group (ingesters of one group share the partitions)').env('FLOWSCOPE_KAFKA_GROUP').default('flowscope-ingester'))
    .addOption(new Option('--store <path|url>', 'chDB data directory or ClickHouse server URL http[s]://[user:password@]host:port[/database]').env('FLOWSCOPE_STORE').default('.flowscope/chdb'))
    .addOption(new Option('--retention-days <n>', 'Flows older than this are deleted (TTL)').env('FLOWSCOPE_RETENTION_DAYS').default(7).argParser(int('retention-days', 1, 3650)))
    .addOption(new Option('--clickhouse-cluster <name>', 'ClickHouse cluster whose schema was applied from `flowscope schema --cluster` (no migrations run)').env('FLOWSCOPE_CLICKHOUSE_CLUSTER'))
    .addOption(new Option('--session-timeout <ms>', 'Consumer group session timeout').env('FLOWSCOPE_KAFKA_SESSION_TIMEOUT_MS').default(30_000).argParser(int('session-timeout', 1000, 3_600_000)))
    .addOption(new Option('--heartbeat-interval <ms>', 'Consumer group heartbeat interval').env('FLOWSCOPE_KAFKA_HEARTBEAT_MS').default(3000).argParser(int('heartbeat-interval', 100, 3_600_000)))
    .action(async (o) => {
      const connection = parseStoreTarget(o.store);
      const { runIngester } = await import('../../relay/kafka/main.js');
      await runIngester({ brokers: brokers(o.kafkaBrokers), topic: o.kafkaTopic, groupId: o.group, connection, retentionDays: o.retentionDays, ...(o.clickhouseCluster ? { cluster: o.clickhouseCluster } : {}), sessionTimeoutMs: o.sessionTimeout, heartbeatIntervalMs: o.heartbeatInterval });
    }));

  program.addCommand(strict(buildExportCommand()));

  program.addCommand(strict(new Command('migrate'))
    .description('Apply pending storage migrations (idempotent) and print what was applied')
    .addOption(new Option('--store <path|url>', 'chDB data directory or ClickHouse server URL http[s]://[user:password@]host:port[/database]').env('FLOWSCOPE_STORE').default('.flowscope/chdb'))
    .addOption(new Option('--retention-days <n>', 'Flow TTL the schema gets').env('FLOWSCOPE_RETENTION_DAYS').default(7).argParser(int('retention-days', 1, 3650)))
    .action(async (o) => {
      const connection = parseStoreTarget(o.store);
      const { runMigrate } = await import('./migrate.js');
      await runMigrate(connection, o.retentionDays, (s) => process.stdout.write(s));
    }));

  program.addCommand(strict(new Command('status'))
    .description('Show the health and flow counters of a relay or collector (like `hubble status`)')
    .addOption(serverOption())
    .option('-o, --output <format>', 'compact, dict, table or json', 'compact')
    .action(async (o) => {
      const fmt = statusOutputFormat(o.output);
      if (!fmt) throw new UsageError(`invalid output format "${o.output}"`);
      const client = new ObserverApiClient(o.server, 5000);
      try {
        const health = await client.healthCheck();
        if (fmt === 'compact') process.stdout.write(formatHealthcheck(o.server, healthStatusText(health)));
        process.stdout.write(formatServerStatus(await client.serverStatus(), fmt));
      } catch (err) {
        throw new Error(`failed to connect to ${o.server}: ${(err as grpc.ServiceError).details || (err as Error).message}`);
      } finally {
        client.close();
      }
    }));

  const list = strict(new Command('list')).description('List objects known to the relay');
  list.addCommand(listCommand('nodes', 'List the collectors (nodes) connected to the relay (like `hubble list nodes`)', NODES_OUTPUT_FORMATS,
    async (c, output) => formatNodes((await c.getNodes()).nodes, output as NodesOutputFormat)));
  list.addCommand(listCommand('namespaces', 'List the namespaces seen in flows during the last hour (like `hubble list namespaces`)', NAMESPACES_OUTPUT_FORMATS,
    async (c, output) => formatNamespaces((await c.getNamespaces()).namespaces, output as NamespacesOutputFormat)));
  program.addCommand(list);

  program.addCommand(strict(insightsCommand('service-map', 'Show which workloads talk to which, with flow, drop and byte counts (from the relay\'s rollup)', serverOption(), INSIGHTS_QUERIES.serviceMap)));
  const top = strict(new Command('top')).description('Rank workloads or drop reasons over a time range (from the relay\'s rollup)');
  top.addCommand(strict(insightsCommand('talkers', 'Source workloads sending the most flows', serverOption(), INSIGHTS_QUERIES.topTalkers)));
  top.addCommand(strict(insightsCommand('drops', 'Drop reasons with the most dropped flows, by namespace pair', serverOption(), INSIGHTS_QUERIES.topDrops)));
  program.addCommand(top);

  program.addCommand(strict(new Command('schema'))
    .description('Print the ClickHouse DDL: the single-node schema the relay migrates to, or with --cluster the ON CLUSTER / Replicated / Distributed schema to apply by hand')
    .option('--cluster <name>', 'ClickHouse cluster name (remote_servers)')
    .option('--database <db>', 'Database for the cluster schema', 'flowscope')
    .option('--retention-days <n>', 'Flows TTL in days', int('retention-days', 1, 3650), 7)
    .option('--rollup-retention-days <n>', 'Rollup TTL in days (default max(retention, 30))', int('rollup-retention-days', 1, 3650))
    .action(async (o) => {
      const { clusterSchema, singleNodeSchema } = await import('../../storage/cluster.js');
      let statements: string[];
      try {
        statements = o.cluster !== undefined
          ? clusterSchema({ cluster: o.cluster, database: o.database, retentionDays: o.retentionDays, rollupRetentionDays: o.rollupRetentionDays })
          : singleNodeSchema({ retentionDays: o.retentionDays, rollupRetentionDays: o.rollupRetentionDays });
      } catch (err) { throw new UsageError((err as Error).message); }
      process.stdout.write(statements.map((x) => `${x};\n`).join('\n'));
    }));

  program.addCommand(strict(new Command('api'))
    .description('Run the HTTP API (GET /api/v1/flows, /healthz, /readyz) in front of a relay')
    .addOption(new Option('--listen <address>', 'HTTP listen address').env('FLOWSCOPE_API_LISTEN').default('0.0.0.0:8080'))
    .addOption(serverOption())
    .action(async (o) => {
      const { runApi } = await import('../http/server.js');
      await runApi({ listen: o.listen, server: o.server });
    }));

  program.addCommand(strict(new Command('up'))
    .description('Run the whole pipeline locally: relay + chDB + synthetic collectors + HTTP API (what `npm start` runs)')
    .addOption(new Option('--data-dir <path>', 'Where chDB data and logs go').env('FLOWSCOPE_DATA_DIR').default('.flowscope'))
    .option('--host <host>', 'Address every component listens on', '127.0.0.1')
    .option('--relay-port <port>', 'Relay gRPC port', int('relay-port', 1, 65535), 4245)
    .option('--api-port <port>', 'HTTP API port', int('api-port', 1, 65535), 8080)
    .option('--collectors <n>', 'Synthetic collectors to start', int('collectors', 1, 32), 3)
    .option('--rate <n>', 'Records per second per collector', int('rate', 1, 1_000_000), 50)
    .option('--metrics-port <port>', 'Base metrics port: collector i on <port>+10+i, relay on <port>+1', int('metrics-port', 1, 65000), 9965)
    .action(async (o) => {
      await runUp({ dataDir: o.dataDir, host: o.host, relayPort: o.relayPort, apiPort: o.apiPort, collectors: o.collectors, rate: o.rate, metricsPort: o.metricsPort });
    }));
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (err instanceof UsageError) {
      process.stderr.write(`Error: ${err.message}\n\nRun 'flowscope ${argv.slice(2).find((a) => !a.startsWith('-')) ?? ''} --help' for usage.\n`);
      process.exit(2);
    }
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
