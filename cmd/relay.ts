// `flowscope relay`: collector ingest, ClickHouse storage and the Hubble Observer API.
import path from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../api/query/usage-error.js';
import { healthListenOption, int, metricsAddr, metricsAddrOption, strict, usage } from '../api/cli/options.js';
import { parseBrokers } from '../relay/kafka/brokers.js';
import type { RelayCommandOptions } from '../relay/main.js';
import type { RelayTlsSpec } from '../relay/tls.js';
import { DEFAULT_BATCHER_OPTIONS } from '../relay/ingest/batcher.js';
import {
  addOptions,
  METRICS_TLS,
  RELAY_PEERS_TLS,
  RELAY_SERVER_TLS,
  serverTlsOptions,
  serverTlsSpec,
  serviceClientTlsOptions,
  serviceClientTlsSpec,
} from '../api/cli/tls-options.js';

interface RelayFlags {
  listen: string;
  nodeName: string;
  dataDir: string;
  clickhouseUrl?: string;
  clickhouseUser?: string;
  clickhousePassword?: string;
  clickhouseDatabase?: string;
  clickhouseCluster?: string;
  retentionDays: number;
  rollupRetentionDays?: number;
  flushInterval: number;
  batchRows: number;
  spoolDir?: string;
  spoolMaxBytes: number;
  spoolSegmentBytes: number;
  insertTimeout: number;
  kafkaBrokers?: string;
  kafkaTopic: string;
  kafkaCompression: 'gzip' | 'none';
  kafkaIdempotent?: boolean;
  kafkaIngest?: string | true;
  metricsAddr: string;
  sharedStore?: boolean;
  registrationInterval: number;
  nodeStaleAfter: number;
  healthListen: string;
  tlsRelayClientAuth: 'all' | 'ingest';
  tlsRelayClientNamePattern?: string;
  authTokenFile?: string;
  [tlsFlag: string]: unknown;
}

/** The gRPC listener's TLS, collector certificate checks and TLS to collectors; undefined: plaintext. */
function tlsOptions(o: RelayFlags): RelayTlsSpec | undefined {
  const server = serverTlsSpec(o, RELAY_SERVER_TLS);
  const peers = serviceClientTlsSpec(o, RELAY_PEERS_TLS);
  if (o.tlsRelayClientNamePattern !== undefined && !server?.clientCa.length)
    throw new UsageError('--tls-relay-client-name-pattern needs --tls-relay-client-ca-files');
  if (!server && !peers) return undefined;
  return {
    server,
    clientAuth: o.tlsRelayClientAuth,
    ...(o.tlsRelayClientNamePattern !== undefined ? { collectorNamePattern: o.tlsRelayClientNamePattern } : {}),
    peers,
  };
}

function kafkaOptions(o: RelayFlags): RelayCommandOptions['kafka'] {
  if (o.kafkaBrokers === undefined) {
    if (o.kafkaIngest) throw new UsageError('--kafka-ingest needs --kafka-brokers');
    return undefined;
  }
  const brokers = usage(() => parseBrokers(o.kafkaBrokers!));
  const ingestGroup = o.kafkaIngest === undefined ? undefined : o.kafkaIngest === true ? 'flowscope-ingester' : String(o.kafkaIngest);
  return { brokers, topic: o.kafkaTopic, compression: o.kafkaCompression, idempotent: !!o.kafkaIdempotent, ...(ingestGroup ? { ingestGroup } : {}) };
}

/** The on-disk spool, beside the data directory unless placed elsewhere; null for "none". */
function spoolOptions(o: RelayFlags): RelayCommandOptions['spool'] {
  const dir = o.spoolDir ?? path.join(path.dirname(path.resolve(o.dataDir)), 'spool');
  if (dir === 'none') return null;
  return { dir, maxBytes: o.spoolMaxBytes, segmentBytes: Math.min(o.spoolSegmentBytes, o.spoolMaxBytes), insertTimeoutMs: o.insertTimeout };
}

export function relayCommand(): Command {
  const cmd = strict(new Command('relay'))
    .description('Run the relay: collector ingest, ClickHouse storage and the Hubble Observer API')
    .addOption(new Option('--listen <address>', 'gRPC listen address (Observer API and ingest)').env('FLOWSCOPE_RELAY_LISTEN').default('0.0.0.0:4245'))
    .addOption(new Option('--node-name <name>', 'Name the relay uses in status events').env('FLOWSCOPE_NODE_NAME').default('flowscope-relay'))
    .addOption(new Option('--data-dir <path>', 'Embedded ClickHouse (chDB) data directory').env('FLOWSCOPE_DATA_DIR').default('.flowscope/chdb'))
    .addOption(new Option('--clickhouse-url <url>', 'Use a ClickHouse server instead of embedded chDB').env('FLOWSCOPE_CLICKHOUSE_URL'))
    .addOption(new Option('--clickhouse-user <user>').env('FLOWSCOPE_CLICKHOUSE_USER'))
    .addOption(new Option('--clickhouse-password <password>').env('FLOWSCOPE_CLICKHOUSE_PASSWORD'))
    .addOption(new Option('--clickhouse-database <db>').env('FLOWSCOPE_CLICKHOUSE_DATABASE'))
    .addOption(
      new Option('--clickhouse-cluster <name>', 'ClickHouse cluster whose schema was applied from `flowscope schema --cluster` (no migrations run)').env(
        'FLOWSCOPE_CLICKHOUSE_CLUSTER',
      ),
    )
    .addOption(
      new Option('--retention-days <n>', 'Flows older than this are deleted (TTL)')
        .env('FLOWSCOPE_RETENTION_DAYS')
        .default(7)
        .argParser(int('retention-days', 1, 3650)),
    )
    .addOption(
      new Option('--rollup-retention-days <n>', 'Per-minute rollup TTL in days (default max(retention, 30))')
        .env('FLOWSCOPE_ROLLUP_RETENTION_DAYS')
        .argParser(int('rollup-retention-days', 1, 3650)),
    )
    .addOption(
      new Option('--flush-interval <ms>', 'Longest a flow waits before its storage insert')
        .env('FLOWSCOPE_FLUSH_INTERVAL_MS')
        .default(DEFAULT_BATCHER_OPTIONS.flushIntervalMs)
        .argParser(int('flush-interval', 1, 60_000)),
    )
    .addOption(
      new Option('--batch-rows <n>', 'Rows per storage insert')
        .env('FLOWSCOPE_BATCH_ROWS')
        .default(50_000)
        .argParser(int('batch-rows', 1, 10_000_000)),
    )
    .addOption(
      new Option(
        '--spool-dir <path>',
        'Directory batches are spooled to while ClickHouse is unreachable ("none": no spool; default: spool/ beside --data-dir)',
      ).env('FLOWSCOPE_SPOOL_DIR'),
    )
    .addOption(
      new Option('--spool-max-bytes <n>', 'Spool size limit; when full, ingest pauses (collectors buffer) instead of dropping')
        .env('FLOWSCOPE_SPOOL_MAX_BYTES')
        .default(1024 ** 3)
        .argParser(int('spool-max-bytes', 1 << 20, Number.MAX_SAFE_INTEGER)),
    )
    .addOption(
      new Option('--spool-segment-bytes <n>', 'Size of one spool segment file')
        .env('FLOWSCOPE_SPOOL_SEGMENT_BYTES')
        .default(64 * 1024 ** 2)
        .argParser(int('spool-segment-bytes', 4096, 2 ** 31)),
    )
    .addOption(
      new Option('--insert-timeout <ms>', 'A storage insert slower than this spools its batch')
        .env('FLOWSCOPE_INSERT_TIMEOUT_MS')
        .default(10_000)
        .argParser(int('insert-timeout', 100, 3_600_000)),
    )
    .addOption(
      new Option(
        '--kafka-brokers <host:port,...>',
        'Kafka mode: produce batches to Kafka (acked to collectors once Kafka has them); `flowscope ingester` stores them',
      ).env('FLOWSCOPE_KAFKA_BROKERS'),
    )
    .addOption(new Option('--kafka-topic <name>', 'Kafka topic for flow batches').env('FLOWSCOPE_KAFKA_TOPIC').default('flowscope-flows'))
    .addOption(
      new Option('--kafka-compression <codec>', 'Compression of produced batches').env('FLOWSCOPE_KAFKA_COMPRESSION').choices(['gzip', 'none']).default('gzip'),
    )
    .addOption(new Option('--kafka-idempotent', 'Idempotent producer (real Kafka; not supported by test mock clusters)').env('FLOWSCOPE_KAFKA_IDEMPOTENT'))
    .addOption(
      new Option(
        '--kafka-ingest [group]',
        "Kafka mode: also run an ingester (this consumer group) in the relay, into the relay's own store (needed with chDB, whose directory one process owns)",
      ).env('FLOWSCOPE_KAFKA_INGEST'),
    )
    .addOption(
      new Option(
        '--shared-store',
        'Other relays use the same ClickHouse (--clickhouse-url, e.g. a `flowscope storage-server`): claim collector sessions, fence inserts, share collector registrations',
      ).env('FLOWSCOPE_SHARED_STORE'),
    )
    .addOption(
      new Option(
        '--registration-interval <ms>',
        "With --shared-store: the pause between two rounds in which this relay writes its collectors to the store and reads the others'",
      )
        .env('FLOWSCOPE_REGISTRATION_INTERVAL_MS')
        .default(2000)
        .argParser(int('registration-interval', 100, 600_000)),
    )
    .addOption(
      new Option('--node-stale-after <ms>', "With --shared-store: another relay's collector is unavailable when its registration is older than this")
        .env('FLOWSCOPE_NODE_STALE_AFTER_MS')
        .default(10_000)
        .argParser(int('node-stale-after', 200, 3_600_000)),
    )
    .addOption(
      new Option(
        '--auth-token-file <path>',
        'Bearer tokens (SHA-256 digests and namespaces; `flowscope tokens create`) every Observer, Insights and RelayStatus call must carry; reloaded on change',
      ).env('FLOWSCOPE_AUTH_TOKEN_FILE'),
    )
    .addOption(metricsAddrOption(':9966'))
    .addOption(healthListenOption());
  addOptions(cmd, serverTlsOptions(RELAY_SERVER_TLS, 'gRPC listener', 'collectors must present one to push flows; see --tls-relay-client-auth'))
    .addOption(
      new Option('--tls-relay-client-auth <which>', 'With client CAs: "all" callers need a client certificate (Hubble), or only collectors ("ingest")')
        .env('FLOWSCOPE_TLS_RELAY_CLIENT_AUTH')
        .choices(['all', 'ingest'])
        .default('all'),
    )
    .addOption(
      new Option(
        '--tls-relay-client-name-pattern <glob>',
        "A collector's certificate must name its node (CN or DNS name); or carry a name matching this glob (* = any characters)",
      ).env('FLOWSCOPE_TLS_RELAY_CLIENT_NAME_PATTERN'),
    );
  addOptions(
    cmd,
    serviceClientTlsOptions(RELAY_PEERS_TLS, "Collectors' Observer APIs (their certificates must name their node)"),
    serverTlsOptions(METRICS_TLS, '/metrics listener', 'scrapers must present one'),
  );
  return cmd.action(async (o: RelayFlags) => {
    const kafka = kafkaOptions(o);
    if (o.sharedStore && !o.clickhouseUrl) throw new UsageError('--shared-store needs --clickhouse-url (a ClickHouse server or `flowscope storage-server`)');
    if (o.sharedStore && kafka) throw new UsageError('--shared-store is for relays that insert into ClickHouse themselves, not Kafka mode');
    if (o.sharedStore && o.nodeStaleAfter <= o.registrationInterval) throw new UsageError('--node-stale-after must be longer than --registration-interval');
    const tls = tlsOptions(o);
    const metricsTls = serverTlsSpec(o, METRICS_TLS);
    const { runRelay } = await import('../relay/main.js');
    await runRelay({
      listen: o.listen,
      nodeName: o.nodeName,
      dataDir: o.dataDir,
      clickhouseUrl: o.clickhouseUrl,
      clickhouseUser: o.clickhouseUser,
      clickhousePassword: o.clickhousePassword,
      clickhouseDatabase: o.clickhouseDatabase,
      clickhouseCluster: o.clickhouseCluster,
      retentionDays: o.retentionDays,
      rollupRetentionDays: o.rollupRetentionDays,
      flushIntervalMs: o.flushInterval,
      batchRows: o.batchRows,
      spool: kafka ? null : spoolOptions(o),
      ...(kafka ? { kafka } : {}),
      metricsAddr: metricsAddr(o.metricsAddr),
      healthListen: metricsAddr(o.healthListen),
      ...(metricsTls ? { metricsTls } : {}),
      ...(tls ? { tls } : {}),
      ...(o.sharedStore ? { shared: { registrationIntervalMs: o.registrationInterval, staleAfterMs: o.nodeStaleAfter } } : {}),
      ...(o.authTokenFile !== undefined ? { authTokenFile: o.authTokenFile } : {}),
    });
  });
}
