// Paging through flows with the Observer API's own request fields. A page is "the newest `limit`
// flows up to `until`" (desc) or "the oldest `limit` from `since`" (asc); both bounds are
// inclusive and the relay breaks ties on time by uuid, so a cursor is the boundary time of the
// page plus the uuids already returned at exactly that time: the next request asks for that many
// more and drops them. Nothing is skipped or repeated, whatever number of flows share a time.
import { createHash } from 'node:crypto';
import type { Flow, GetFlowsRequest, Timestamp } from '../../proto/types.js';
import { compareTimestamps } from '../../common/time.js';
import { UsageError } from '../query/usage-error.js';

export type Order = 'asc' | 'desc';

/** Uuids one cursor may carry: flows sharing one timestamp beyond this cannot be paged through. */
export const MAX_CURSOR_UUIDS = 10_000;

export interface Cursor {
  order: Order;
  time: Timestamp;
  seen: string[];
  /** Which query the cursor belongs to (hash of its other parameters). */
  query: string;
}

/** The parameters other than the cursor, canonically: a cursor is only valid with the same ones. */
export function queryKey(search: URLSearchParams): string {
  const h = createHash('sha256');
  for (const [k, v] of search) if (k !== 'cursor') h.update(`${k}\0${v}\0`);
  return h.digest('base64url').slice(0, 16);
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ o: c.order, s: c.time.seconds, n: c.time.nanos, u: c.seen, q: c.query })).toString('base64url');
}

export function decodeCursor(text: string, query: string): Cursor {
  const bad = (why: string) => new UsageError(`invalid cursor: ${why}`);
  let v: { o?: unknown; s?: unknown; n?: unknown; u?: unknown; q?: unknown };
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor this API gave');
  }
  if (typeof v !== 'object' || v === null) throw bad('not a cursor this API gave');
  const { o, s, n, u, q } = v;
  if ((o !== 'asc' && o !== 'desc') || !Number.isSafeInteger(s) || !Number.isInteger(n) || (n as number) < 0 || (n as number) > 999_999_999)
    throw bad('not a cursor this API gave');
  if (!Array.isArray(u) || !u.every((x) => typeof x === 'string' && x.length <= 64)) throw bad('not a cursor this API gave');
  if (u.length > MAX_CURSOR_UUIDS) throw bad(`more than ${MAX_CURSOR_UUIDS} flows share one timestamp: narrow the query to page through them`);
  if (q !== query) throw bad('it belongs to a query with other parameters (keep the filters, since, until, limit and order of the first page)');
  return { order: o, time: { seconds: s as number, nanos: n as number }, seen: u as string[], query };
}

/** The request for one page: the selection's filters and range, narrowed to after the cursor. */
export function pageRequest(base: GetFlowsRequest, limit: number, order: Order, cursor?: Cursor): GetFlowsRequest {
  const req: GetFlowsRequest = { ...base, number: limit + (cursor?.seen.length ?? 0) };
  delete req.first;
  if (order === 'asc') {
    req.first = true;
    if (cursor) req.since = cursor.time;
  } else if (cursor) req.until = cursor.time;
  return req;
}

/**
 * Follows the flows of one page as they stream (in time order): drops those the cursor already
 * returned and remembers the page's far edge for the next cursor, in memory bounded by the page.
 */
export class PageTracker {
  private readonly seen: ReadonlySet<string>;
  private edge?: Timestamp;
  private edgeUuids: string[] = [];
  count = 0;

  constructor(
    private readonly limit: number,
    private readonly order: Order,
    private readonly query: string,
    private readonly cursor?: Cursor,
  ) {
    this.seen = new Set(cursor?.seen ?? []);
  }

  /** Whether the flow belongs to this page. */
  accept(flow: Flow): boolean {
    const uuid = flow.uuid ?? '';
    if (this.cursor && this.seen.has(uuid) && compareTimestamps(flow.time, this.cursor.time) === 0) return false;
    this.count++;
    const t = flow.time ?? { seconds: 0, nanos: 0 };
    if (this.edge === undefined) {
      this.edge = t;
      this.edgeUuids = [uuid];
    } else if (compareTimestamps(t, this.edge) === 0) {
      this.edgeUuids.push(uuid);
    } else if (this.order === 'asc') {
      // asc: the edge is the newest time; desc: the oldest, which is the first one seen.
      this.edge = t;
      this.edgeUuids = [uuid];
    }
    return true;
  }

  /** The cursor of the following page, or null when this one was the last. */
  next(): string | null {
    if (this.count < this.limit || this.edge === undefined) return null;
    let seen = this.edgeUuids;
    // Still at the previous page's edge: the flows it returned there are behind us as well.
    if (this.cursor && compareTimestamps(this.edge, this.cursor.time) === 0) seen = [...this.cursor.seen, ...seen];
    return encodeCursor({ order: this.order, time: this.edge, seen, query: this.query });
  }
}
