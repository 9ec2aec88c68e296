// `flowscope relay`: storage + ingest + Observer API in one process (chDB allows one data
// directory per process, so the relay owns it).
import { createLogger } from '../common/logger.js';
import { runUntilSignal } from '../common/lifecycle.js';
import { FlowStore, type ConnectionOptions } from '../storage/index.js';
import { Relay, type RelayStore } from './relay.js';
import type { HistoryQuery } from './observer/get-flows.js';

export interface RelayCommandOptions {
  listen: string;
  nodeName: string;
  dataDir: string;
  clickhouseUrl?: string;
  clickhouseUser?: string;
  clickhousePassword?: string;
  clickhouseDatabase?: string;
  /** ClickHouse cluster whose schema was created with `flowscope schema --cluster`. */
  clickhouseCluster?: string;
  retentionDays: number;
  rollupRetentionDays?: number;
  flushIntervalMs: number;
  batchRows: number;
}

/** Adapts the FlowStore to what the relay needs; history reads stop at the live cursor. */
export function relayStore(store: FlowStore): RelayStore {
  return {
    insert: (flows, progress, batchId) => store.insert(flows, progress, batchId),
    durableSeq: (s) => store.durableSeq(s),
    query: (q: HistoryQuery) => store.queryFlows({ whitelist: q.whitelist, blacklist: q.blacklist, since: q.since, until: q.until, number: q.number, first: q.first, maxBatchId: q.upTo }),
    namespaces: (sinceMs) => store.namespaces(sinceMs),
    serviceMap: (r) => store.serviceMap(r),
    topTalkers: (r) => store.topTalkers(r),
    topDropReasons: (r) => store.topDropReasons(r),
    close: () => store.close(),
  };
}

export async function startRelay(opts: RelayCommandOptions): Promise<Relay> {
  const log = createLogger('relay');
  const connection: ConnectionOptions = opts.clickhouseUrl
    ? { kind: 'server', url: opts.clickhouseUrl, username: opts.clickhouseUser, password: opts.clickhousePassword, database: opts.clickhouseDatabase }
    : { kind: 'chdb', path: opts.dataDir };
  const store = await FlowStore.open({ connection, retentionDays: opts.retentionDays, rollupRetentionDays: opts.rollupRetentionDays, cluster: opts.clickhouseCluster });
  log.info({ storage: opts.clickhouseUrl ? opts.clickhouseUrl : `chdb:${opts.dataDir}`, flows: await store.countFlows() }, 'storage ready');
  const relay = new Relay(relayStore(store), { listen: opts.listen, nodeName: opts.nodeName, batcher: { flushIntervalMs: opts.flushIntervalMs, maxRows: opts.batchRows } }, log);
  await relay.start();
  return relay;
}

export async function runRelay(opts: RelayCommandOptions): Promise<void> {
  const relay = await startRelay(opts);
  runUntilSignal(createLogger('relay'), () => relay.stop());
}
