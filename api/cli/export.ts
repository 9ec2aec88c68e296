// `flowscope export`: stored flows of a time range as Hubble exporter JSON lines (what `hubble
// observe --input-file` and `flowscope observe --input-file` read). It takes observe's filter
// flags (the same parser builds the same GetFlowsRequest) and reads either a relay's Observer
// API (GetFlows with since/until, no follow) or ClickHouse directly with --store.
import fs from 'node:fs';
import { Command, Option } from 'commander';
import * as grpc from '@grpc/grpc-js';
import { types } from '../../proto/index.js';
import type { Flow, GetFlowsRequest, GetFlowsResponse } from '../../proto/index.js';
import type { ConnectionOptions } from '../../storage/index.js';
import { protoJSONLine } from '../printer/json-line.js';
import { observerClient, type ClientTlsFlags } from './tls-options.js';
import { buildObserveCommand, type ObserveInvocation } from './observe-flags.js';
import { UsageError } from '../query/usage-error.js';
import { parseStoreTarget, describeStore } from './store-target.js';

/** Writes with backpressure, so a slow consumer (a pipe, a disk) bounds memory. */
function lineWriter(stream: NodeJS.WritableStream): (line: string) => Promise<void> | undefined {
  return (line) => (stream.write(line) ? undefined : new Promise<void>((r) => stream.once('drain', () => r())));
}

function flowLine(flow: Flow): string {
  const res: GetFlowsResponse = { flow };
  if (flow.node_name) res.node_name = flow.node_name;
  if (flow.time) res.time = flow.time;
  return protoJSONLine(types.GetFlowsResponse, res);
}

export interface ExportTarget {
  server: string;
  /** TLS to the server (observe's --tls flags). */
  tls?: ClientTlsFlags;
  store?: ConnectionOptions;
}

/** Checks that an observe invocation makes sense as an export; throws UsageError if not. */
export function checkExport(inv: ObserveInvocation): GetFlowsRequest {
  if (inv.output.output !== 'jsonpb') throw new UsageError(`export writes jsonpb only (got -o ${inv.output.output})`);
  if (inv.request.follow) throw new UsageError('export cannot --follow: it reads a closed time range');
  if (inv.inputFile !== undefined) throw new UsageError('export reads a relay or a store, not --input-file');
  if (!inv.request.since) throw new UsageError('export needs --since (and optionally --until, default now)');
  return inv.request;
}

export async function runExport(request: GetFlowsRequest, target: ExportTarget, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const write = lineWriter(out);
  let n = 0;
  if (target.store) {
    const conn = target.store;
    if (conn.kind === 'chdb' && !fs.existsSync(conn.path)) throw new Error(`no flow store at ${conn.path}`);
    const { FlowStore } = await import('../../storage/index.js'); // chDB loads only when used
    const store = await FlowStore.open({ connection: conn });
    try {
      const flows = store.queryFlows({
        whitelist: request.whitelist,
        blacklist: request.blacklist,
        since: request.since,
        until: request.until,
        number: request.number,
        first: request.first,
      });
      for await (const flow of flows) {
        n++;
        await write(flowLine(flow));
      }
    } catch (err) {
      throw new Error(`failed to read flows from ${describeStore(conn)}: ${(err as Error).message}`);
    } finally {
      await store.close();
    }
    return n;
  }
  const client = observerClient(target.server, 12_000, target.tls ?? {});
  try {
    // Only flows: the relay's node status preamble is not part of an export.
    await client.getFlows({ ...request, follow: false }, (res) => {
      if (!res.flow) return;
      n++;
      return write(flowLine(res.flow));
    });
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code === grpc.status.INVALID_ARGUMENT) throw new UsageError(e.details || e.message);
    throw new Error(`failed to get flows from ${target.server}: ${e.details || e.message}`);
  } finally {
    client.close();
  }
  return n;
}

/** `flowscope export`: observe's flags (filters, --since/--until, --server) plus --store. */
export function buildExportCommand(): Command {
  const cmd: Command = buildObserveCommand(
    async (inv) => {
      const request = checkExport(inv);
      const storeArg = cmd.opts().store as string | undefined;
      const store = storeArg !== undefined ? parseStoreTarget(storeArg) : undefined;
      await runExport(request, { server: inv.server, tls: inv.connection, ...(store ? { store } : {}) });
    },
    { env: process.env },
  );
  cmd
    .name('export')
    .description('Export stored flows of a time range as Hubble exporter JSON lines (read back with observe --input-file)')
    .addOption(new Option('--store <path|url>', 'Read ClickHouse directly: a chDB data directory or http[s]://host:port[/database] (instead of --server)'));
  // Same flags as observe, but the only output is jsonpb, so it is the default.
  cmd.setOptionValueWithSource('output', 'jsonpb', 'default');
  return cmd;
}
