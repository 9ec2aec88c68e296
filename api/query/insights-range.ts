// The rollup queries' selection (service map, top lists) from the same inputs whether they come
// from CLI flags or HTTP query parameters: --since (default 1h), --until, --namespace, --cluster, --limit.
import type { InsightsRequest } from '../../proto/types.js';
import { parseTimeArg, isValidTimestamp } from './time-args.js';
import { UsageError } from './usage-error.js';
import { CLUSTER_NAME_RULE, isClusterName } from '../../common/cluster-name.js';

export const MAX_LIMIT = 100_000;

export interface InsightsRange {
  since: string;
  until?: string;
  namespace?: string;
  cluster?: string;
  limit?: string;
}

function time(name: string, v: string, nowMs: number) {
  const t = parseTimeArg(v, nowMs);
  if (!t || !isValidTimestamp(t)) throw new UsageError(`invalid value "${v}" for --${name}: expected a duration like 1h or an RFC 3339 time`);
  return t;
}

/** The rollup request for a time range, namespace and limit (UsageError when they do not parse). */
export function insightsRange(o: InsightsRange, nowMs = Date.now()): InsightsRequest {
  const req: InsightsRequest = { since: time('since', o.since, nowMs) };
  if (o.until !== undefined) req.until = time('until', o.until, nowMs);
  const s = req.since!,
    u = req.until;
  if (u && (s.seconds > u.seconds || (s.seconds === u.seconds && s.nanos >= u.nanos))) throw new UsageError('--since must be before --until');
  if (o.namespace !== undefined) {
    if (o.namespace === '' || o.namespace.length > 253) throw new UsageError(`invalid value "${o.namespace}" for --namespace`);
    req.namespace = o.namespace;
  }
  if (o.cluster !== undefined) {
    if (!isClusterName(o.cluster)) throw new UsageError(`invalid value "${o.cluster}" for --cluster: ${CLUSTER_NAME_RULE}`);
    req.cluster = o.cluster;
  }
  if (o.limit !== undefined) {
    if (!/^\d+$/.test(o.limit) || Number(o.limit) < 1 || Number(o.limit) > MAX_LIMIT)
      throw new UsageError(`invalid value "${o.limit}" for --limit: expected 1..${MAX_LIMIT}`);
    req.limit = Number(o.limit);
  }
  return req;
}
