// The single `flowscope` executable: long-running services (relay, collector, api, up) and the
// clients (observe, status, list nodes). Bad usage exits 2 with the command's usage.
import { Command, CommanderError, Option } from 'commander';
import * as grpc from '@grpc/grpc-js';
import { buildObserveCommand, DEFAULT_SERVER } from './observe-flags.js';
import { UsageError } from './observe-errors.js';
import { runObserve } from './observe.js';
import { runUp } from './up.js';
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

/** commander errors become UsageError; help and version exit 0 as usual. */
function strict(cmd: Command): Command {
  return cmd.exitOverride((err: CommanderError) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') throw err;
    throw new UsageError(err.message.replace(/^error: /, ''));
  }).configureOutput({ outputError: () => {} }).allowExcessArguments(false);
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
    .action(async (o) => {
      const { runRelay } = await import('../../relay/main.js');
      await runRelay({ listen: o.listen, nodeName: o.nodeName, dataDir: o.dataDir, clickhouseUrl: o.clickhouseUrl, clickhouseUser: o.clickhouseUser, clickhousePassword: o.clickhousePassword, clickhouseDatabase: o.clickhouseDatabase, clickhouseCluster: o.clickhouseCluster, retentionDays: o.retentionDays, rollupRetentionDays: o.rollupRetentionDays, flushIntervalMs: o.flushInterval, batchRows: o.batchRows });
    }));

  program.addCommand(strict(new Command('collector'))
    .description('Run a node collector: read datapath records, decode, enrich, keep a ring, ship to the relay')
    .addOption(new Option('--source <source>', 'Record source: synthetic | file:PATH').env('FLOWSCOPE_SOURCE').default('synthetic'))
    .addOption(new Option('--node-name <name>', 'This node\'s name (default: the synthetic node\'s name)').env('FLOWSCOPE_NODE_NAME'))
    .addOption(new Option('--relay <address>', 'Relay to ship flows to ("none" to only serve the local API)').env('FLOWSCOPE_RELAY').default('localhost:4245'))
    .addOption(new Option('--listen <address>', 'Observer API listen address for this node').env('FLOWSCOPE_COLLECTOR_LISTEN').default('0.0.0.0:4244'))
    .addOption(new Option('--advertise <address>', 'Observer API address the relay should use (default: 127.0.0.1:<port>)').env('FLOWSCOPE_ADVERTISE'))
    .addOption(new Option('--inventory <file>', 'Static inventory JSON for enrichment (IP → pod/namespace/labels/workload/service)').env('FLOWSCOPE_INVENTORY'))
    .addOption(new Option('--ring-capacity <n>', 'Flows kept for this node\'s Observer API').env('FLOWSCOPE_RING_CAPACITY').default(4095).argParser(int('ring-capacity', 1, 10_000_000)))
    .addOption(new Option('--max-unacked <n>', 'Flows buffered for the relay before new ones are dropped (counted)').env('FLOWSCOPE_MAX_UNACKED').default(200_000).argParser(int('max-unacked', 1, 100_000_000)))
    .addOption(new Option('--rate <n>', 'synthetic: records per second').env('FLOWSCOPE_SYNTHETIC_RATE').default(50).argParser(int('rate', 0, 10_000_000)))
    .addOption(new Option('--seed <n>', 'synthetic: cluster and traffic seed').default(1).argParser(int('seed')))
    .addOption(new Option('--synthetic-node <name|index>', 'synthetic: which node of the synthetic cluster this collector plays').default('1'))
    .addOption(new Option('--synthetic-nodes <n>', 'synthetic: nodes in the synthetic cluster').default(4).argParser(int('synthetic-nodes', 2, 100)))
    .addOption(new Option('--policy-deny-surge <factor>', 'synthetic: multiply policy-denied traffic').default(1).argParser(int('policy-deny-surge', 0, 1000)))
    .action(async (o) => {
      const { runCollector } = await import('../../collector/main.js');
      const { parseSourceKind } = await import('../../collector/sources/registry.js');
      let kind: ReturnType<typeof parseSourceKind>;
      try { kind = parseSourceKind(o.source); } catch (err) { throw new UsageError((err as Error).message); }
      const source = kind === 'synthetic'
        ? { kind: 'synthetic' as const, rate: o.rate, seed: o.seed, node: o.syntheticNode, clusterNodes: o.syntheticNodes, policyDenySurge: o.policyDenySurge }
        : { kind: 'file' as const, path: kind.file };
      await runCollector({ nodeName: o.nodeName, source, relay: o.relay === 'none' ? null : o.relay, listen: o.listen, advertise: o.advertise, inventory: o.inventory, ringCapacity: o.ringCapacity, maxUnackedFlows: o.maxUnacked });
    }));

  program.addCommand(strict(buildObserveCommand(runObserve, { isTTY: process.stdout.isTTY, env: process.env })));

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
    .action(async (o) => {
      await runUp({ dataDir: o.dataDir, host: o.host, relayPort: o.relayPort, apiPort: o.apiPort, collectors: o.collectors, rate: o.rate });
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
