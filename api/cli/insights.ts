// `flowscope service-map` and `flowscope top talkers|drops`: the relay's rollup queries.
// Shared flags: --since (default 1h), --until, --namespace, --cluster, --limit, -o table|json.
import { Command, Option } from 'commander';
import * as grpc from '@grpc/grpc-js';
import { rpcErrorText, type ObserverApiClient } from '../client.js';
import { clientConnectionOptions, observerClient, type ClientTlsFlags } from './tls-options.js';
import type { InsightsRequest } from '../../proto/types.js';
import { insightsRange, type InsightsRange } from '../query/insights-range.js';
import { UsageError } from '../query/usage-error.js';
import { formatServiceMap, formatTopTalkers, formatTopDropReasons, INSIGHTS_OUTPUT_FORMATS, type InsightsOutputFormat } from '../printer/index.js';

export interface InsightsFlags extends InsightsRange {
  output: string;
}

/** Validated request and output format from the flags (UsageError when they do not parse). */
export function insightsRequest(o: InsightsFlags, nowMs = Date.now()): { req: InsightsRequest; output: InsightsOutputFormat } {
  if (!INSIGHTS_OUTPUT_FORMATS.includes(o.output as InsightsOutputFormat)) throw new UsageError(`invalid output format "${o.output}": expected table or json`);
  return { req: insightsRange(o, nowMs), output: o.output as InsightsOutputFormat };
}

type Query = (c: ObserverApiClient, req: InsightsRequest, output: InsightsOutputFormat) => Promise<string>;

export const INSIGHTS_QUERIES = {
  serviceMap: (async (c, req, out) => formatServiceMap(await c.serviceMap(req), out)) as Query,
  topTalkers: (async (c, req, out) => formatTopTalkers(await c.topTalkers(req), out)) as Query,
  topDrops: (async (c, req, out) => formatTopDropReasons(await c.topDropReasons(req), out)) as Query,
};

export function insightsCommand(name: string, description: string, serverOption: Option, query: Query): Command {
  const cmd = new Command(name).description(description).addOption(serverOption);
  for (const o of clientConnectionOptions()) cmd.addOption(o);
  return cmd
    .option('--since <time>', 'Start of the range: a duration back from now (1h, 30m) or an RFC 3339 time', '1h')
    .option('--until <time>', 'End of the range (default now)')
    .option('--namespace <ns>', 'Only traffic with this namespace on either side')
    .option('--cluster <name>', 'Only traffic observed in this cluster (node names <cluster>/<node>)')
    .option('--limit <n>', 'Most rows to show')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (o) => {
      const { req, output } = insightsRequest(o);
      process.stdout.write(await askRelay(o.server, 30_000, o, (client) => query(client, req, output)));
    });
}

/**
 * One call to the relay with the command's TLS flags: its INVALID_ARGUMENT is a usage error
 * (exit 2), anything else a failure naming the server; the client is closed either way.
 */
export async function askRelay<T>(server: string, timeoutMs: number, tls: ClientTlsFlags, call: (c: ObserverApiClient) => Promise<T>): Promise<T> {
  const client = observerClient(server, timeoutMs, tls);
  try {
    return await call(client);
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.INVALID_ARGUMENT) throw new UsageError(e.details);
    throw new Error(`failed to query ${server}: ${rpcErrorText(e, server)}`);
  } finally {
    client.close();
  }
}
