// Pairs DNS responses with their queries to fill Layer7.latency_ns on the response, like Hubble
// does for its DNS proxy records. Key: client IP/port, server IP/port and DNS message ID. The
// table is bounded in entries and in time (record time, so replays behave like live traffic);
// every query that leaves it unanswered is counted (evicted when the table is full, expired after
// the timeout). An answered key stays in the table until the timeout as a marker, so the same
// response seen twice is reported once.

export interface DnsPairingOptions {
  /** Queries (and answered markers) kept at most; the oldest is evicted beyond it. */
  maxEntries: number;
  /** How long a query waits for its response, and a marker lives, in milliseconds. */
  timeoutMs: number;
}

export const DEFAULT_DNS_PAIRING: DnsPairingOptions = Object.freeze({ maxEntries: 10_000, timeoutMs: 10_000 });

export interface DnsStats {
  /** DNS queries turned into L7 REQUEST flows. */
  queries: number;
  /** DNS responses turned into L7 RESPONSE flows. */
  responses: number;
  /** Responses matched with their query (latency_ns set). */
  paired: number;
  /** Responses without a pending query (query unseen, evicted or expired). */
  unpaired: number;
  /** Queries or responses seen again under the same key (another capture point, retransmission): not re-reported. */
  duplicates: number;
  /** Pending queries pushed out of the full table. */
  evicted: number;
  /** Pending queries that got no response within the timeout. */
  expired: number;
  /** Port-53 payloads (or TCP messages) that are not well-formed DNS. */
  malformed: number;
  /** TCP segments ending inside a DNS message (the rest is in another segment): skipped. */
  partial: number;
}

export function newDnsStats(): DnsStats {
  return { queries: 0, responses: 0, paired: 0, unpaired: 0, duplicates: 0, evicted: 0, expired: 0, malformed: 0, partial: 0 };
}

interface Entry {
  timeNs: number;
  answered: boolean;
}

/** Result of `response`: the latency in ns, UNPAIRED, or DUPLICATE. */
export const UNPAIRED = -1,
  DUPLICATE = -2;

export class DnsPairingTable {
  // Insertion order = time order (entries are re-inserted when they change), so the oldest entry
  // is always first: eviction and expiry look at the head only.
  private readonly entries = new Map<string, Entry>();
  private readonly timeoutNs: number;

  constructor(
    private readonly opts: DnsPairingOptions,
    private readonly stats: DnsStats,
  ) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new Error(`invalid DNS pairing table size ${opts.maxEntries}`);
    if (!(opts.timeoutMs > 0)) throw new Error(`invalid DNS pairing timeout ${opts.timeoutMs}`);
    this.timeoutNs = opts.timeoutMs * 1e6;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Records a query; false when the same query is already pending or answered (a duplicate). */
  query(key: string, timeNs: number): boolean {
    this.expire(timeNs);
    if (this.entries.has(key)) {
      this.stats.duplicates++;
      return false;
    }
    this.insert(key, { timeNs, answered: false });
    return true;
  }

  /** Records a response; returns its latency (ns, ≥ 0), UNPAIRED or DUPLICATE. */
  response(key: string, timeNs: number): number {
    this.expire(timeNs);
    const e = this.entries.get(key);
    if (e !== undefined) {
      if (e.answered) {
        this.stats.duplicates++;
        return DUPLICATE;
      }
      this.entries.delete(key);
      this.insert(key, { timeNs, answered: true });
      this.stats.paired++;
      return Math.max(0, timeNs - e.timeNs);
    }
    this.insert(key, { timeNs, answered: true });
    this.stats.unpaired++;
    return UNPAIRED;
  }

  private insert(key: string, e: Entry): void {
    if (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      if (!this.entries.get(oldest)!.answered) this.stats.evicted++;
      this.entries.delete(oldest);
    }
    this.entries.set(key, e);
  }

  private expire(nowNs: number): void {
    const limit = nowNs - this.timeoutNs;
    for (const [key, e] of this.entries) {
      if (e.timeNs > limit) break;
      if (!e.answered) this.stats.expired++;
      this.entries.delete(key);
    }
  }
}
