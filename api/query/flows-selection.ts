// Which flows a request selects, from the same inputs whether they come from `observe` flags or
// HTTP query parameters: filter flags in order (hubble's whitelist/blacklist rules), the count
// selectors (last, first, all) and the time range (since, until), as a GetFlowsRequest.
import type { GetFlowsRequest } from '../../proto/index.js';
import { buildFilters, type FilterFlag } from './filter-flags.js';
import { UsageError } from './usage-error.js';
import { isValidTimestamp, parseTimeArg } from './time-args.js';

/** hubble's defaults.FlowPrintCount: flows printed by a plain `observe`. */
export const DEFAULT_LAST = 20;
/**
 * `--all` asks for "last 2^64-1" in hubble; a JS number cannot hold that, so the largest safe
 * integer stands in (it is larger than any ring buffer).
 */
export const NUMBER_ALL = Number.MAX_SAFE_INTEGER;

/** What the count and time selectors mean: `observe --help` and the HTTP API's OpenAPI parameters read this. */
export const SELECTOR_HELP = {
  all: "Get all flows stored in the server's buffer",
  last: `Get last N flows stored in the buffer (default ${DEFAULT_LAST})`,
  first: 'Get first N flows stored in the buffer',
  follow: 'Follow flows output',
  since: 'Filter flows since a specific date: relative (e.g. 3s, 4m, 1h43m) or RFC3339 and other layouts',
  until: 'Filter flows until a specific date: relative (e.g. 3s, 4m, 1h43m) or RFC3339 and other layouts',
} as const;

/** The selection as given (strings unparsed); `filters` keeps their order. */
export interface FlowSelection {
  filters?: readonly FilterFlag[];
  last?: string;
  first?: string;
  all?: boolean;
  follow?: boolean;
  since?: string;
  until?: string;
}

export interface SelectionContext {
  /** "now" for relative times (default Date.now()). */
  nowMs?: number;
  /** Whether a selection without count or time range gets DEFAULT_LAST (observe does). */
  defaultLast?: boolean;
}

/** A count flag: pflag's Uint64 accepts Go integer literals (base prefixes, underscores). */
export function parseCount(flag: string, v: string | undefined): number {
  if (v === undefined) return 0;
  const text = v.replace(/_/g, '');
  const ok = /^(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|\d+)$/.test(text) && !/^_|_$|__/.test(v);
  const n = ok ? Number(/^0[0-7]+$/.test(text) ? `0o${text.slice(1)}` : text) : NaN;
  if (!Number.isFinite(n) || n > 2 ** 64 - 1) throw new UsageError(`invalid argument ${JSON.stringify(v)} for "--${flag}" flag: not an unsigned integer`);
  return Math.min(n, NUMBER_ALL);
}

function parseTimeFlag(flag: 'since' | 'until', v: string, nowMs: number): GetFlowsRequest['since'] {
  const ts = parseTimeArg(v, nowMs);
  if (!ts) throw new UsageError(`failed to parse the ${flag} time: failed to convert ${v} to time`);
  if (!isValidTimestamp(ts)) throw new UsageError(`failed to convert \`${flag}\` timestamp to proto: timestamp out of range`);
  return ts;
}

/** The request fields `hubble observe` would send for this selection; UsageError when invalid. */
export function selectFlows(sel: FlowSelection, ctx: SelectionContext = {}): GetFlowsRequest {
  const { whitelist, blacklist } = buildFilters(sel.filters ?? []);
  const follow = sel.follow ?? false;
  let last = parseCount('last', sel.last);
  const firstN = parseCount('first', sel.first);
  const first = firstN > 0;
  const all = sel.all ?? false;
  if (first && last > 0) throw new UsageError('cannot set both --first and --last');
  if (first && all) throw new UsageError('cannot set both --first and --all');
  if (first && follow) throw new UsageError('cannot set both --first and --follow');
  if (last > 0 && all) throw new UsageError('cannot set both --last and --all');

  const nowMs = ctx.nowMs ?? Date.now();
  const since = sel.since ? parseTimeFlag('since', sel.since, nowMs) : undefined;
  // --until is ignored in follow mode; with --since alone the server stops at "now".
  const until = sel.until && !follow ? parseTimeFlag('until', sel.until, nowMs) : undefined;
  if (!since && !until && !first) {
    if (all) last = NUMBER_ALL;
    else if (last === 0 && !follow && (ctx.defaultLast ?? true)) last = DEFAULT_LAST;
  }

  const request: GetFlowsRequest = {};
  const number = first ? firstN : last;
  if (number !== 0) request.number = number;
  if (first) request.first = true;
  if (follow) request.follow = true;
  if (blacklist.length > 0) request.blacklist = blacklist;
  if (whitelist.length > 0) request.whitelist = whitelist;
  if (since) request.since = since;
  if (until) request.until = until;
  return request;
}
