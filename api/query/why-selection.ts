// What `flowscope why` asks, from the same inputs whether they come from CLI flags or HTTP query
// parameters: the two ends as `observe`'s sided filter flags (--from-pod, --to-service, …, built
// by filter-flags.ts exactly as `observe` builds them), --to-port, --protocol, the range
// (--since, default 1h; --until) and --limit, as a WhyRequest.
import type { WhyRequest } from '../../proto/types.js';
import { checkPairFilter } from '../../filters/sides.js';
import { FilterError, validateFlowFilters } from '../../filters/index.js';
import { buildFilters, type FilterFlag } from './filter-flags.js';
import { isValidTimestamp, parseTimeArg } from './time-args.js';
import { UsageError } from './usage-error.js';

/** The filter flags `why` takes: each names one end (or the destination port / protocol). */
export const WHY_FILTER_FLAGS = [
  'from-pod',
  'from-workload',
  'from-namespace',
  'from-label',
  'from-ip',
  'from-service',
  'from-fqdn',
  'from-identity',
  'from-cluster',
  'to-pod',
  'to-workload',
  'to-namespace',
  'to-label',
  'to-ip',
  'to-service',
  'to-fqdn',
  'to-identity',
  'to-cluster',
  'to-port',
  'protocol',
] as const;

export const WHY_MAX_LIMIT = 200;

export interface WhySelection {
  /** Filter flags in the order given. */
  filters: readonly FilterFlag[];
  since?: string;
  until?: string;
  limit?: string;
}

function time(name: string, v: string, nowMs: number) {
  const t = parseTimeArg(v, nowMs);
  if (!t || !isValidTimestamp(t)) throw new UsageError(`invalid value "${v}" for --${name}: expected a duration like 1h or an RFC 3339 time`);
  return t;
}

/** The Why request, or a UsageError naming the flag that is wrong. */
export function whyRequest(sel: WhySelection, nowMs = Date.now()): WhyRequest {
  const allowed: ReadonlySet<string> = new Set(WHY_FILTER_FLAGS);
  for (const f of sel.filters) if (!allowed.has(f.flag)) throw new UsageError(`--${f.flag} cannot be used with why`);
  const { whitelist } = buildFilters(sel.filters);
  if (whitelist.length !== 1) throw new UsageError('give the source (--from-…) and the destination (--to-…)');
  const pair = whitelist[0];
  try {
    checkPairFilter(pair);
    validateFlowFilters([pair]);
  } catch (err) {
    if (!(err instanceof FilterError)) throw err;
    const m = err.message;
    if (/source endpoint is missing/.test(m))
      throw new UsageError('the source is missing: --from-pod, --from-workload, --from-namespace, --from-label, --from-ip, …');
    if (/destination endpoint is missing/.test(m))
      throw new UsageError('the destination is missing: --to-pod, --to-workload, --to-service, --to-fqdn, --to-ip, --to-namespace, --to-label, …');
    throw new UsageError(m);
  }
  const req: WhyRequest = { pair, since: time('since', sel.since ?? '1h', nowMs) };
  if (sel.until !== undefined) req.until = time('until', sel.until, nowMs);
  const s = req.since!,
    u = req.until;
  if (u && (s.seconds > u.seconds || (s.seconds === u.seconds && s.nanos >= u.nanos))) throw new UsageError('--since must be before --until');
  if (sel.limit !== undefined) {
    if (!/^\d+$/.test(sel.limit) || Number(sel.limit) < 1 || Number(sel.limit) > WHY_MAX_LIMIT)
      throw new UsageError(`invalid value "${sel.limit}" for --limit: expected 1..${WHY_MAX_LIMIT}`);
    req.limit = Number(sel.limit);
  }
  return req;
}
