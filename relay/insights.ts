// The relay's flowscope.insights.v1.Insights service: service map, top talkers and top drop
// reasons over a time range, answered from the storage rollup, and Why (one pair of endpoints
// diagnosed from the stored flows, relay/why-report.ts). Requests are validated here; a bad one
// is INVALID_ARGUMENT and counted, by method.
import * as grpc from '@grpc/grpc-js';
import type { InsightsRequest, ServiceMapResponse, TopTalkersResponse, TopDropReasonsResponse, Timestamp, WhyReport, WhyRequest } from '../proto/types.js';
import type { RollupRange, ServiceEdge, Talker, DropReasonCount, WhyEvidence, WhyQuery } from '../storage/index.js';
import { buildWhyReport, whyQuery } from './why-report.js';
import { grpcError } from '../common/grpc-services.js';
import type { Logger } from '../common/logger.js';
import { isClusterName } from '../common/cluster-name.js';
import { callAuth } from '../common/auth/grpc-auth.js';
import { namesOnlyOutside } from '../filters/named-namespaces.js';

export interface InsightsStore {
  serviceMap(r: RollupRange): Promise<ServiceEdge[]>;
  topTalkers(r: RollupRange): Promise<Talker[]>;
  topDropReasons(r: RollupRange): Promise<DropReasonCount[]>;
  whyEvidence(q: WhyQuery): Promise<WhyEvidence>;
}

export const MAX_INSIGHTS_LIMIT = 100_000;
const MAX_NAMESPACE_LEN = 253;

export class InvalidInsightsRequest extends Error {}

function ms(t: Timestamp | undefined, name: string): number | undefined {
  if (t === undefined || t === null) return undefined;
  const s = t.seconds ?? 0,
    n = t.nanos ?? 0;
  if (!Number.isFinite(s) || !Number.isInteger(n) || n < 0 || n >= 1e9 || s < 0 || s > 253402300799)
    throw new InvalidInsightsRequest(`invalid ${name} timestamp`);
  return s * 1000 + Math.floor(n / 1e6);
}

/** The request as a rollup range, or InvalidInsightsRequest. */
export function insightsRange(req: InsightsRequest, nowMs = Date.now()): RollupRange {
  const sinceMs = ms(req.since, 'since');
  if (sinceMs === undefined) throw new InvalidInsightsRequest('since is required');
  const untilMs = ms(req.until, 'until') ?? nowMs;
  if (sinceMs >= untilMs) throw new InvalidInsightsRequest('since must be before until');
  const limit = req.limit ?? 0;
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_INSIGHTS_LIMIT)
    throw new InvalidInsightsRequest(`limit must be between 0 and ${MAX_INSIGHTS_LIMIT}`);
  const ns = req.namespace ?? '';
  if (ns.length > MAX_NAMESPACE_LEN) throw new InvalidInsightsRequest('namespace is too long');
  const cluster = req.cluster ?? '';
  if (cluster !== '' && !isClusterName(cluster)) throw new InvalidInsightsRequest('cluster is not a valid cluster name');
  return { sinceMs, untilMs, ...(ns !== '' && { namespace: ns }), ...(cluster !== '' && { cluster }), ...(limit > 0 && { limit }) };
}

export const INSIGHTS_METHODS = ['ServiceMap', 'TopTalkers', 'TopDropReasons', 'Why'] as const;
export type InsightsMethod = (typeof INSIGHTS_METHODS)[number];

export interface MethodStats {
  requests: number;
  invalid: number;
  failed: number;
  /** Refused to a scoped token (PERMISSION_DENIED). */
  forbidden: number;
}
/** Requests, rejected requests (INVALID_ARGUMENT, PERMISSION_DENIED) and failed queries, per method. */
export type InsightsStats = Record<InsightsMethod, MethodStats>;

export function newInsightsStats(): InsightsStats {
  return Object.fromEntries(INSIGHTS_METHODS.map((m) => [m, { requests: 0, invalid: 0, failed: 0, forbidden: 0 }])) as InsightsStats;
}

export function insightsHandlers(store: InsightsStore, log: Logger, stats: InsightsStats = newInsightsStats()): grpc.UntypedServiceImplementation {
  const handler =
    <Req, Q, Res>(name: InsightsMethod, parse: (req: Req) => Q, run: (q: Q) => Promise<Res>, scoped: (q: Q, scope: ReadonlySet<string>) => Q | null) =>
    (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
      const st = stats[name];
      st.requests++;
      let q: Q;
      try {
        q = parse(call.request);
      } catch (err) {
        st.invalid++;
        return cb(grpcError(grpc.status.INVALID_ARGUMENT, (err as Error).message));
      }
      // A scoped caller's question is narrowed to its flows, or refused when it is only about
      // namespaces outside its scope.
      const auth = callAuth(call);
      if (auth?.scope) {
        const narrowed = scoped(q, auth.scope);
        if (narrowed === null) {
          st.forbidden++;
          return cb(auth.forbidden());
        }
        q = narrowed;
      }
      run(q).then(
        (res) => cb(null, res),
        (err: Error) => {
          st.failed++;
          log.warn({ method: name, err: err.message }, 'insights query failed');
          cb(grpcError(grpc.status.UNAVAILABLE, `storage query failed: ${err.message}`));
        },
      );
    };
  const unary = <Res>(name: InsightsMethod, run: (r: RollupRange) => Promise<Res>) =>
    handler<InsightsRequest, RollupRange, Res>(
      name,
      (req) => insightsRange(req),
      run,
      (r, scope) => (r.namespace !== undefined && !scope.has(r.namespace) ? null : { ...r, scope: [...scope] }),
    );
  return {
    Why: handler<WhyRequest, WhyQuery, WhyReport>(
      'Why',
      (req) => whyQuery(req),
      async (q) => buildWhyReport(q, await store.whyEvidence(q)),
      (q, scope) => (namesOnlyOutside([q.pair], scope) ? null : { ...q, scope: [...scope] }),
    ),
    ServiceMap: unary('ServiceMap', async (r): Promise<ServiceMapResponse> => ({
      edges: (await store.serviceMap(r)).map((e) => ({
        source_namespace: e.srcNamespace,
        source_workload: e.srcWorkload,
        destination_namespace: e.dstNamespace,
        destination_workload: e.dstWorkload,
        protocol: e.protocol,
        destination_port: e.dstPort,
        flows: e.flows,
        dropped: e.dropped,
        bytes: e.bytes,
      })),
    })),
    TopTalkers: unary('TopTalkers', async (r): Promise<TopTalkersResponse> => ({
      talkers: (await store.topTalkers(r)).map((t) => ({ namespace: t.namespace, workload: t.workload, flows: t.flows, bytes: t.bytes, peers: t.peers })),
    })),
    TopDropReasons: unary('TopDropReasons', async (r): Promise<TopDropReasonsResponse> => ({
      reasons: (await store.topDropReasons(r)).map((d) => ({
        drop_reason: d.dropReason,
        source_namespace: d.srcNamespace,
        destination_namespace: d.dstNamespace,
        flows: d.flows,
      })),
    })),
  };
}
