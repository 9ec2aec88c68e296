// Redaction of sensitive L7 values, as Hubble's parser does it (pkg/hubble/parser/seven, options
// --hubble-redact-*), run as the collector's last enrichment step: the ring, the node's Observer
// API, the flow metrics, the shipped blocks and so storage only ever see the redacted flow.
//
// Hubble's rules, kept as they are:
// * URL query (`--redact-http-urlquery`): the query and the fragment are removed from the URL.
// * URL user info (`--redact-http-userinfo`): a password is replaced, the user name kept.
// * Headers: with redaction enabled and neither list given, every value is replaced; a name in
//   the allow list keeps its value, one in the deny list is replaced; otherwise a value is
//   replaced when an allow list exists and kept when only a deny list does. Names compare
//   case-insensitively. Allow and deny are alternatives.
// * Kafka (`--redact-kafka-apikey`): the API key is replaced.
// flowscope adds DNS names (`--redact-dns-query`): a query, CNAME or DNS-learned endpoint name that
// matches a pattern is replaced wherever the flow carries it (query, CNAMEs, source/destination
// names, summary).
import type { Flow } from '../../proto/types.js';
import type { Enricher } from './enricher.js';
import { compileFQDNPatterns } from '../../filters/fqdn-pattern.js';
import { compileGoRegexp } from '../../filters/re2.js';
import { dnsSummary } from '../decode/dns.js';

/** Hubble's replacement value (pkg/hubble/defaults.SensitiveValueRedacted). */
export const REDACTED = 'HUBBLE_REDACTED';

export interface RedactionOptions {
  httpUrlQuery: boolean;
  httpUserInfo: boolean;
  kafkaApiKey: boolean;
  /** Header names whose values are kept (all others replaced). */
  httpHeadersAllow: readonly string[];
  /** Header names whose values are replaced (all others kept). */
  httpHeadersDeny: readonly string[];
  /** DNS name patterns: Hubble FQDN globs (`*.corp.example.com`) or `/regexp/` (RE2 syntax). */
  dnsQuery: readonly string[];
}

/** What was redacted, by field (for the collector's metrics). */
export interface RedactionStats {
  httpUrls: number;
  httpHeaders: number;
  kafkaApiKeys: number;
  dnsNames: number;
}

/** The query and fragment removed: everything from the first '?' or '#'. String surgery rather
 * than URL parsing so the rest of the URL stays byte for byte what the proxy logged. */
export function stripQuery(url: string): string {
  const q = url.indexOf('?');
  const h = url.indexOf('#');
  const cut = q < 0 ? h : h < 0 ? q : Math.min(q, h);
  return cut < 0 ? url : url.slice(0, cut);
}

/** `scheme://user:password@host…` → `scheme://user:HUBBLE_REDACTED@host…`; a URL without a
 * password is returned as it is. */
export function redactUserInfo(url: string): string {
  const start = url.indexOf('//');
  if (start < 0) return url;
  const authStart = start + 2;
  let authEnd = url.length;
  for (const c of '/?#') {
    const i = url.indexOf(c, authStart);
    if (i >= 0 && i < authEnd) authEnd = i;
  }
  const at = url.lastIndexOf('@', authEnd - 1);
  if (at < authStart) return url;
  const colon = url.indexOf(':', authStart);
  if (colon < 0 || colon > at) return url;
  return `${url.slice(0, colon + 1)}${REDACTED}${url.slice(at)}`;
}

/** Hubble's filterHeader. `allow`/`deny` hold lower-case names. */
export function headerRedacted(key: string, allow: ReadonlySet<string>, deny: ReadonlySet<string>): boolean {
  if (allow.size === 0 && deny.size === 0) return true;
  const k = key.toLowerCase();
  if (allow.has(k)) return false;
  if (deny.has(k)) return true;
  return allow.size > 0;
}

/** One matcher for every `--redact-dns-query` pattern; throws (FilterError) on a bad one. */
export function compileDnsPatterns(patterns: readonly string[]): (name: string) => boolean {
  const globs: string[] = [];
  const regexps: RegExp[] = [];
  for (const p of patterns) {
    if (p.length >= 2 && p.startsWith('/') && p.endsWith('/')) regexps.push(compileGoRegexp(p.slice(1, -1), 'redact-dns-query').js);
    else globs.push(p);
  }
  const glob = globs.length > 0 ? new RegExp(compileFQDNPatterns(globs)) : null;
  return (name: string): boolean => {
    // DNS names end with the root's dot; patterns are written without it, in lower case.
    const n = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
    if (glob !== null && glob.test(n)) return true;
    for (let i = 0; i < regexps.length; i++) if (regexps[i].test(n)) return true;
    return false;
  };
}

/** Checks options as the flags give them: allow and deny are alternatives, patterns compile. */
export function validateRedaction(o: RedactionOptions): void {
  if (o.httpHeadersAllow.length > 0 && o.httpHeadersDeny.length > 0) {
    throw new Error('only one of --redact-http-headers-allow and --redact-http-headers-deny can be given, not both');
  }
  compileDnsPatterns(o.dnsQuery);
}

// Names seen on a busy node repeat: remember the verdict for a bounded number of them.
const NAME_CACHE_MAX = 8192;

export class Redactor implements Enricher {
  readonly stats: RedactionStats = { httpUrls: 0, httpHeaders: 0, kafkaApiKeys: 0, dnsNames: 0 };
  private readonly allow: ReadonlySet<string>;
  private readonly deny: ReadonlySet<string>;
  private readonly dnsMatch: ((name: string) => boolean) | null;
  private readonly nameCache = new Map<string, boolean>();

  constructor(private readonly opts: RedactionOptions) {
    validateRedaction(opts);
    this.allow = new Set(opts.httpHeadersAllow.map((h) => h.toLowerCase()));
    this.deny = new Set(opts.httpHeadersDeny.map((h) => h.toLowerCase()));
    this.dnsMatch = opts.dnsQuery.length > 0 ? compileDnsPatterns(opts.dnsQuery) : null;
  }

  enrich(flow: Flow): void {
    const l7 = flow.l7;
    if (l7 !== undefined) {
      if (l7.http !== undefined) this.http(flow);
      if (l7.kafka !== undefined && this.opts.kafkaApiKey) {
        l7.kafka.api_key = REDACTED;
        this.stats.kafkaApiKeys++;
      }
    }
    if (this.dnsMatch !== null) this.dns(flow);
  }

  private http(flow: Flow): void {
    const http = flow.l7!.http!;
    if (http.url !== undefined && (this.opts.httpUrlQuery || this.opts.httpUserInfo)) {
      const before = http.url;
      let url = before;
      if (this.opts.httpUserInfo) url = redactUserInfo(url);
      if (this.opts.httpUrlQuery) url = stripQuery(url);
      if (url !== before) {
        http.url = url;
        // Hubble's HTTP summary repeats the URL ("HTTP/1.1 GET http://…").
        if (flow.Summary !== undefined) flow.Summary = flow.Summary.split(before).join(url);
        this.stats.httpUrls++;
      }
    }
    const headers = http.headers;
    if (headers !== undefined) {
      for (let i = 0; i < headers.length; i++) {
        const h = headers[i];
        if (h.value !== undefined && h.value !== REDACTED && headerRedacted(h.key ?? '', this.allow, this.deny)) {
          headers[i] = { key: h.key, value: REDACTED };
          this.stats.httpHeaders++;
        }
      }
    }
  }

  private matches(name: string): boolean {
    let hit = this.nameCache.get(name);
    if (hit === undefined) {
      hit = this.dnsMatch!(name);
      if (this.nameCache.size >= NAME_CACHE_MAX) this.nameCache.clear();
      this.nameCache.set(name, hit);
    }
    return hit;
  }

  /** A copy with matching names replaced, or the same array when none matches (the DNS-name
   * enricher hands out shared, frozen arrays). */
  private names(names: string[] | undefined): string[] | undefined {
    if (names === undefined) return undefined;
    let out: string[] | undefined;
    for (let i = 0; i < names.length; i++) {
      if (!this.matches(names[i])) continue;
      out ??= names.slice();
      out[i] = REDACTED;
      this.stats.dnsNames++;
    }
    return out ?? names;
  }

  private dns(flow: Flow): void {
    if (flow.source_names !== undefined) flow.source_names = this.names(flow.source_names);
    if (flow.destination_names !== undefined) flow.destination_names = this.names(flow.destination_names);
    const l7 = flow.l7;
    const dns = l7?.dns;
    if (dns === undefined) return;
    let changed = false;
    if (dns.query !== undefined && this.matches(dns.query)) {
      dns.query = REDACTED;
      this.stats.dnsNames++;
      changed = true;
    }
    if (dns.cnames !== undefined) {
      const c = this.names(dns.cnames);
      if (c !== dns.cnames) {
        dns.cnames = c;
        changed = true;
      }
    }
    // The summary spells the query and CNAMEs out: rebuild it from the redacted record.
    if (changed && flow.Summary !== undefined && flow.Summary.startsWith('DNS ')) flow.Summary = dnsSummary(l7!.type === 2, dns);
  }
}
