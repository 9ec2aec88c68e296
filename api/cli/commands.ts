// The user-facing `flowscope` commands: observe, export, status, list, service-map, top, and
// the storage administration commands migrate and schema. The long-running services (relay,
// collector, ingester, api, up) are wired in cmd/.
import { Command } from 'commander';
import { buildObserveCommand } from './observe-flags.js';
import { UsageError } from '../query/usage-error.js';
import { runObserve } from './observe.js';
import { buildExportCommand } from './export.js';
import { parseStoreTarget } from './store-target.js';
import { insightsCommand, INSIGHTS_QUERIES } from './insights.js';
import { whyCommand } from './why.js';
import { certsCommand } from './certs.js';
import { int, retentionOption, serverOption, storeOption, strict } from './options.js';
import { rpcErrorText, type ObserverApiClient } from '../client.js';
import { clientConnectionOptions, observerClient } from './tls-options.js';
import { tokensCommand } from './tokens.js';
import {
  formatHealthcheck,
  healthStatusText,
  formatServerStatus,
  statusOutputFormat,
  formatNodes,
  NODES_OUTPUT_FORMATS,
  type NodesOutputFormat,
  formatNamespaces,
  NAMESPACES_OUTPUT_FORMATS,
  type NamespacesOutputFormat,
} from '../printer/index.js';

/** Adds hubble's client TLS flags (--tls, --tls-ca-cert-files, …) to a client command. */
function withClientTls(cmd: Command): Command {
  for (const o of clientConnectionOptions()) cmd.addOption(o);
  return cmd;
}

/** `flowscope list <what>`: one Observer API call, printed as table, wide or json. */
function listCommand(
  what: string,
  description: string,
  formats: readonly string[],
  render: (c: ObserverApiClient, output: string) => Promise<string>,
): Command {
  return withClientTls(strict(new Command(what)).description(description).addOption(serverOption()))
    .option('-o, --output <format>', 'table, wide or json', 'table')
    .action(async (o) => {
      if (!formats.includes(o.output)) throw new UsageError(`invalid output format "${o.output}"`);
      const client = observerClient(o.server, 5000, o);
      try {
        process.stdout.write(await render(client, o.output));
      } catch (err) {
        throw new Error(`failed to list ${what} from ${o.server}: ${rpcErrorText(err, o.server)}`);
      } finally {
        client.close();
      }
    });
}

function observeCommand(): Command {
  return strict(buildObserveCommand(runObserve, { isTTY: process.stdout.isTTY, env: process.env }));
}

function migrateCommand(): Command {
  return strict(new Command('migrate'))
    .description('Apply pending storage migrations (idempotent) and print what was applied')
    .addOption(storeOption())
    .addOption(retentionOption('Flow TTL the schema gets'))
    .action(async (o) => {
      const connection = parseStoreTarget(o.store);
      const { runMigrate } = await import('./migrate.js');
      await runMigrate(connection, o.retentionDays, (s) => process.stdout.write(s));
    });
}

function statusCommand(): Command {
  return withClientTls(
    strict(new Command('status')).description('Show the health and flow counters of a relay or collector (like `hubble status`)').addOption(serverOption()),
  )
    .option('-o, --output <format>', 'compact, dict, table or json', 'compact')
    .action(async (o) => {
      const fmt = statusOutputFormat(o.output);
      if (!fmt) throw new UsageError(`invalid output format "${o.output}"`);
      const client = observerClient(o.server, 5000, o);
      try {
        const health = await client.healthCheck();
        if (fmt === 'compact') process.stdout.write(formatHealthcheck(o.server, healthStatusText(health)));
        process.stdout.write(formatServerStatus(await client.serverStatus(), fmt));
      } catch (err) {
        throw new Error(`failed to connect to ${o.server}: ${rpcErrorText(err, o.server)}`);
      } finally {
        client.close();
      }
    });
}

function listCommands(): Command {
  const list = strict(new Command('list')).description('List objects known to the relay');
  list.addCommand(
    listCommand('nodes', 'List the collectors (nodes) connected to the relay (like `hubble list nodes`)', NODES_OUTPUT_FORMATS, async (c, output) =>
      formatNodes((await c.getNodes()).nodes, output as NodesOutputFormat),
    ),
  );
  list.addCommand(
    listCommand(
      'namespaces',
      'List the namespaces seen in flows during the last hour (like `hubble list namespaces`)',
      NAMESPACES_OUTPUT_FORMATS,
      async (c, output) => formatNamespaces((await c.getNamespaces()).namespaces, output as NamespacesOutputFormat),
    ),
  );
  return list;
}

function serviceMapCommand(): Command {
  return strict(
    insightsCommand(
      'service-map',
      "Show which workloads talk to which, with flow, drop and byte counts (from the relay's rollup)",
      serverOption(),
      INSIGHTS_QUERIES.serviceMap,
    ),
  );
}

function topCommands(): Command {
  const top = strict(new Command('top')).description("Rank workloads or drop reasons over a time range (from the relay's rollup)");
  top.addCommand(strict(insightsCommand('talkers', 'Source workloads sending the most flows', serverOption(), INSIGHTS_QUERIES.topTalkers)));
  top.addCommand(strict(insightsCommand('drops', 'Drop reasons with the most dropped flows, by namespace pair', serverOption(), INSIGHTS_QUERIES.topDrops)));
  return top;
}

function schemaCommand(): Command {
  return strict(new Command('schema'))
    .description(
      'Print the ClickHouse DDL: the single-node schema the relay migrates to, or with --cluster the ON CLUSTER / Replicated / Distributed schema to apply by hand',
    )
    .option('--cluster <name>', 'ClickHouse cluster name (remote_servers)')
    .option('--database <db>', 'Database for the cluster schema', 'flowscope')
    .option('--retention-days <n>', 'Flows TTL in days', int('retention-days', 1, 3650), 7)
    .option('--rollup-retention-days <n>', 'Rollup TTL in days (default max(retention, 30))', int('rollup-retention-days', 1, 3650))
    .action(async (o) => {
      const { clusterSchema, singleNodeSchema } = await import('../../storage/cluster.js');
      let statements: string[];
      try {
        statements =
          o.cluster !== undefined
            ? clusterSchema({ cluster: o.cluster, database: o.database, retentionDays: o.retentionDays, rollupRetentionDays: o.rollupRetentionDays })
            : singleNodeSchema({ retentionDays: o.retentionDays, rollupRetentionDays: o.rollupRetentionDays });
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      process.stdout.write(statements.map((x) => `${x};\n`).join('\n'));
    });
}

/** The client and administration commands, in the order `flowscope --help` lists them. */
export function userCommands(): Command[] {
  return [
    observeCommand(),
    strict(buildExportCommand()),
    migrateCommand(),
    statusCommand(),
    listCommands(),
    serviceMapCommand(),
    topCommands(),
    strict(whyCommand(serverOption())),
    schemaCommand(),
    certsCommand(),
    tokensCommand(),
  ];
}
