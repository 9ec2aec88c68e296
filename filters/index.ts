// Composition of Hubble FlowFilter semantics: a FlowFilter matches when all its set fields
// match; a request matches when any whitelist filter matches (an empty whitelist matches all)
// and no blacklist filter matches. Each kind compiles its fields twice — predicate and SQL.
import type { Flow, FlowFilter } from '../proto/types.js';
import { Params } from './params.js';
import type { Compiled, FilterKind } from './types.js';
import { uuidFilter } from './uuid.js';
import { ipFilter } from './ip.js';
import { ipVersionFilter } from './ip-version.js';
import { encryptedFilter } from './encrypted.js';
import { podFilter } from './pod.js';
import { serviceFilter } from './service.js';
import { labelFilter } from './label.js';
import { fqdnFilter } from './fqdn.js';
import { dnsQueryFilter } from './dns-query.js';
import { verdictFilter } from './verdict.js';
import { dropReasonFilter } from './drop-reason.js';
import { trafficDirectionFilter } from './traffic-direction.js';
import { eventTypeFilter } from './event-type.js';
import { identityFilter } from './identity.js';
import { replyFilter } from './reply.js';
import { tcpFlagsFilter } from './tcp-flags.js';
import { portFilter } from './port.js';
import { protocolFilter } from './protocol.js';
import { clusterNameFilter } from './cluster-name.js';
import { interfaceFilter } from './interface.js';
import { workloadFilter } from './workload.js';
import { nodeNameFilter } from './node-name.js';
import { kernelDropReasonFilter } from './kernel-drop-reason.js';
import { httpStatusFilter } from './http-status.js';
import { httpMethodFilter } from './http-method.js';
import { httpPathFilter } from './http-path-filter.js';
import { httpUrlFilter } from './http-url.js';
import { httpHeaderFilter } from './http-header.js';
import { traceIdFilter } from './trace-id.js';
import { ipTraceIdFilter } from './ip-trace-id.js';
import { experimentalFilter } from './experimental.js';

export { FilterError } from './errors.js';
export type { Compiled, FilterKind } from './types.js';

/** The single registry of filter kinds (Hubble's DefaultFilters). */
export const FILTER_KINDS: readonly FilterKind[] = [
  uuidFilter,
  ipFilter,
  ipVersionFilter,
  encryptedFilter,
  podFilter,
  serviceFilter,
  labelFilter,
  fqdnFilter,
  dnsQueryFilter,
  verdictFilter,
  dropReasonFilter,
  trafficDirectionFilter,
  eventTypeFilter,
  identityFilter,
  replyFilter,
  tcpFlagsFilter,
  portFilter,
  protocolFilter,
  clusterNameFilter,
  interfaceFilter,
  workloadFilter,
  nodeNameFilter,
  httpStatusFilter,
  httpMethodFilter,
  httpPathFilter,
  httpUrlFilter,
  httpHeaderFilter,
  traceIdFilter,
  ipTraceIdFilter,
  experimentalFilter,
  kernelDropReasonFilter,
];

type Pred = (flow: Flow) => boolean;

function compileOne(ff: FlowFilter, p: Params): Compiled {
  const parts = FILTER_KINDS.flatMap((k) => k.build(ff, p));
  const preds = parts.map((c) => c.match);
  return {
    match: (f) => allMatch(preds, f),
    sql: parts.length === 0 ? '1' : `(${parts.map((c) => c.sql).join(' AND ')})`,
  };
}

/** Throws FilterError for the first invalid value in any filter. */
export function validateFlowFilters(whitelist: readonly FlowFilter[] = [], blacklist: readonly FlowFilter[] = []): void {
  const p = new Params();
  for (const ff of [...whitelist, ...blacklist]) compileOne(ff, p);
}

export function compileFlowFilters(whitelist: readonly FlowFilter[] = [], blacklist: readonly FlowFilter[] = []): Pred {
  const p = new Params();
  const w = whitelist.map((ff) => compileOne(ff, p).match);
  const b = blacklist.map((ff) => compileOne(ff, p).match);
  if (w.length === 0 && b.length === 0) return () => true;
  return (f) => (w.length === 0 || anyMatch(w, f)) && !anyMatch(b, f);
}

/** SQL boolean over the flows table plus its parameters (names start with `prefix`). */
export function flowFiltersToSQL(
  whitelist: readonly FlowFilter[] = [],
  blacklist: readonly FlowFilter[] = [],
  prefix = 'f',
): { sql: string; params: Record<string, unknown> } {
  const p = new Params(prefix);
  const w = whitelist.map((ff) => compileOne(ff, p).sql);
  const b = blacklist.map((ff) => compileOne(ff, p).sql);
  const parts: string[] = [];
  if (w.length > 0) parts.push(`(${w.join(' OR ')})`);
  if (b.length > 0) parts.push(`NOT (${b.join(' OR ')})`);
  return { sql: parts.length === 0 ? '1' : parts.join(' AND '), params: p.values };
}

// Loops rather than every()/some() with a closure: a live follower's filters run on every flow
// of the node, and the closures were allocated per flow.
function allMatch(preds: ReadonlyArray<(f: Flow) => boolean>, f: Flow): boolean {
  for (let i = 0; i < preds.length; i++) if (!preds[i](f)) return false;
  return true;
}

function anyMatch(preds: ReadonlyArray<(f: Flow) => boolean>, f: Flow): boolean {
  for (let i = 0; i < preds.length; i++) if (preds[i](f)) return true;
  return false;
}
