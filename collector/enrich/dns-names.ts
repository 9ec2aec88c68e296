// source_names / destination_names from the DNS answers the collector saw (with --l7-dns), the
// way Hubble names addresses from each endpoint's DNS lookups (Cilium's per-endpoint FQDN cache):
// a flow from client C to address A gets the names C resolved to A; the reply direction gets
// them as source_names. Fed by the L7 DNS RESPONSE flows passing through the enricher; an entry
// lives for max(TTL, minTtl) seconds (Cilium keeps FQDN data at least --tofqdns-min-ttl, 3600 s)
// and the cache holds at most maxEntries (client, address) pairs, the oldest evicted first.
import type { Flow } from '../../proto/types.js';
import type { Enricher } from './enricher.js';

export interface DnsNameCacheOptions {
  maxEntries: number;
  minTtlSec: number;
  /** Names kept per (client, address) at most. */
  maxNamesPerAddress: number;
}

export const DEFAULT_DNS_NAMES: DnsNameCacheOptions = Object.freeze({ maxEntries: 100_000, minTtlSec: 3600, maxNamesPerAddress: 8 });

interface Entry {
  names: string[];
  expiresSec: number;
  client: string;
  ip: string;
}

export class DnsNameEnricher implements Enricher {
  private readonly opts: DnsNameCacheOptions;
  // client → address → names: lookups build no key strings.
  private readonly byClient = new Map<string, Map<string, Entry>>();
  // Insertion order of entries, for eviction (an entry re-learnt moves to the end).
  private readonly order = new Set<Entry>();
  /** Entries evicted because the cache was full. */
  evicted = 0;

  constructor(opts: Partial<DnsNameCacheOptions> = {}) {
    this.opts = { ...DEFAULT_DNS_NAMES, ...opts };
  }

  get size(): number {
    return this.order.size;
  }

  /** `client` resolved `name` to `ips` with `ttlSec`, at `nowSec`. */
  learn(client: string, name: string, ips: readonly string[], ttlSec: number, nowSec: number): void {
    const n = name.endsWith('.') && name.length > 1 ? name.slice(0, -1) : name;
    if (n === '' || n === '.') return;
    const expiresSec = nowSec + Math.max(ttlSec, this.opts.minTtlSec);
    let m = this.byClient.get(client);
    if (m === undefined) {
      m = new Map();
      this.byClient.set(client, m);
    }
    for (const ip of ips) {
      const e = m.get(ip);
      if (e !== undefined) {
        if (!e.names.includes(n)) e.names = Object.freeze([...e.names, n].sort().slice(0, this.opts.maxNamesPerAddress)) as string[];
        e.expiresSec = Math.max(e.expiresSec, expiresSec);
        this.order.delete(e);
        this.order.add(e);
        continue;
      }
      if (this.order.size >= this.opts.maxEntries) this.evictOldest();
      const ne: Entry = { names: Object.freeze([n]) as string[], expiresSec, client, ip };
      m.set(ip, ne);
      this.order.add(ne);
    }
  }

  namesOf(client: string, ip: string, nowSec: number): string[] | undefined {
    const e = this.byClient.get(client)?.get(ip);
    if (e === undefined) return undefined;
    if (e.expiresSec <= nowSec) {
      this.remove(e);
      return undefined;
    }
    return e.names;
  }

  enrich(flow: Flow): void {
    const ip = flow.IP;
    if (ip === undefined || ip.source === undefined || ip.destination === undefined) return;
    const now = flow.time?.seconds ?? Math.floor(Date.now() / 1000);
    const l7 = flow.l7;
    if (l7 !== undefined && l7.type === 2 && l7.dns?.ips !== undefined && l7.dns.query !== undefined && (l7.dns.rcode ?? 0) === 0) {
      // A response travels server → client.
      this.learn(ip.destination, l7.dns.query, l7.dns.ips, l7.dns.ttl ?? 0, now);
      return;
    }
    if (this.order.size === 0) return;
    if (flow.destination_names === undefined) {
      const d = this.namesOf(ip.source, ip.destination, now);
      if (d !== undefined) flow.destination_names = d;
    }
    if (flow.source_names === undefined) {
      const s = this.namesOf(ip.destination, ip.source, now);
      if (s !== undefined) flow.source_names = s;
    }
  }

  private evictOldest(): void {
    const first = this.order.values().next().value as Entry | undefined;
    if (first === undefined) return;
    this.remove(first);
    this.evicted++;
  }

  private remove(e: Entry): void {
    this.order.delete(e);
    const m = this.byClient.get(e.client);
    if (m === undefined) return;
    m.delete(e.ip);
    if (m.size === 0) this.byClient.delete(e.client);
  }
}
