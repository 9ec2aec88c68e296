// `flowscope service-map` and `flowscope top talkers|drops`: the relay's rollup queries.
// Shared flags: --since (default 1h), --until, --namespace, --limit, -o table|json.
import { Command, Option } from 'commander';
import * as grpc from '@grpc/grpc-js';
import { ObserverApiClient } from '../client.js';
import type { InsightsRequest } from '../../proto/types.js';
import { parseTimeArg, isValidTimestamp } from './observe-time.js';
import { UsageError } from './observe-errors.js';
import { formatServiceMap, formatTopTalkers, formatTopDropReasons, INSIGHTS_OUTPUT_FORMATS, type InsightsOutputFormat } from '../printer/index.js';

export const MAX_LIMIT = 100_000;

export interface InsightsFlags { since: string; until?: string; namespace?: string; limit?: string; output: string }

function time(name: string, v: string, nowMs: number) {
  const t = parseTimeArg(v, nowMs);
  if (!t || !isValidTimestamp(t)) throw new UsageError(`invalid value "${v}" for --${name}: expected a duration like 1h or an RFC 3339 time`);
  return t;
}

/** Validated request and output format from the flags (UsageError when they do not parse). */
export function insightsRequest(o: InsightsFlags, nowMs = Date.now()): { req: InsightsRequest; output: InsightsOutputFormat } {
  if (!INSIGHTS_OUTPUT_FORMATS.includes(o.output as InsightsOutputFormat)) throw new UsageError(`invalid output format "${o.output}": expected table or json`);
  const req: InsightsRequest = { since: time('since', o.since, nowMs) };
  if (o.until !== undefined) req.until = time('until', o.until, nowMs);
  const s = req.since!, u = req.until;
  if (u && (s.seconds > u.seconds || (s.seconds === u.seconds && s.nanos >= u.nanos))) throw new UsageError('--since must be before --until');
  if (o.namespace !== undefined) {
    if (o.namespace === '' || o.namespace.length > 253) throw new UsageError(`invalid value "${o.namespace}" for --namespace`);
    req.namespace = o.namespace;
  }
  if (o.limit !== undefined) {
    if (!/^\d+$/.test(o.limit) || Number(o.limit) < 1 || Number(o.limit) > MAX_LIMIT) throw new UsageError(`invalid value "${o.limit}" for --limit: expected 1..${MAX_LIMIT}`);
    req.limit = Number(o.limit);
  }
  return { req, output: o.output as InsightsOutputFormat };
}

type Query = (c: ObserverApiClient, req: InsightsRequest, output: InsightsOutputFormat) => Promise<string>;

export const INSIGHTS_QUERIES = {
  serviceMap: (async (c, req, out) => formatServiceMap(await c.serviceMap(req), out)) as Query,
  topTalkers: (async (c, req, out) => formatTopTalkers(await c.topTalkers(req), out)) as Query,
  topDrops: (async (c, req, out) => formatTopDropReasons(await c.topDropReasons(req), out)) as Query,
};

export function insightsCommand(name: string, description: string, serverOption: Option, query: Query): Command {
  return new Command(name)
    .description(description)
    .addOption(serverOption)
    .option('--since <time>', 'Start of the range: a duration back from now (1h, 30m) or an RFC 3339 time', '1h')
    .option('--until <time>', 'End of the range (default now)')
    .option('--namespace <ns>', 'Only traffic with this namespace on either side')
    .option('--limit <n>', 'Most rows to show')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (o) => {
      const { req, output } = insightsRequest(o);
      const client = new ObserverApiClient(o.server, 30_000);
      try {
        process.stdout.write(await query(client, req, output));
      } catch (err) {
        const e = err as grpc.ServiceError;
        if (e.code === grpc.status.INVALID_ARGUMENT) throw new UsageError(e.details);
        throw new Error(`failed to query ${o.server}: ${e.details || e.message}`);
      } finally {
        client.close();
      }
    });
}
