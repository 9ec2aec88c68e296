// DNS message parsing for payloads captured with UDP/TCP port 53 packets. Produces the fields of
// Hubble's flow.DNS the way its DNS proxy records fill them (query with trailing dot, A/AAAA
// answer IPs, smallest answer TTL, CNAME targets, rcode, qtypes and rrtypes named like gopacket's
// DNSType). Bounded: compression pointers are followed at most 16 times per name, names are at
// most 255 characters, and any structure running past the message (bogus counts, lengths,
// pointers) makes the parse fail (null) instead of guessing. Never throws.
import type { DNS } from '../../proto/types.js';
import { ipv4At, ipv6At, u16be, u32be } from './format.js';

// gopacket's layers.DNSType names (what Hubble puts in qtypes/rrtypes); anything else is "Unknown".
const TYPE_NAMES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  3: 'MD',
  4: 'MF',
  5: 'CNAME',
  6: 'SOA',
  7: 'MB',
  8: 'MG',
  9: 'MR',
  10: 'NULL',
  11: 'WKS',
  12: 'PTR',
  13: 'HINFO',
  14: 'MINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  41: 'OPT',
  46: 'RRSIG',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  256: 'URI',
};

/** DNS RR type name as Hubble prints it (gopacket's DNSType.String()). */
export function dnsTypeName(t: number): string {
  return TYPE_NAMES[t] ?? 'Unknown';
}

// gopacket's layers.DNSResponseCode names, used in Hubble's "DNS Answer RCode: …" summaries.
const RCODE_NAMES: Record<number, string> = {
  0: 'No Error',
  1: 'Format Error',
  2: 'Server Failure',
  3: 'Non-Existent Domain',
  4: 'Not Implemented',
  5: 'Query Refused',
  6: 'Name Exists when it should not',
  7: 'RR Set Exists when it should not',
  8: 'RR Set that should exist does not',
  9: 'Server Not Authoritative for zone',
  10: 'Name not contained in zone',
  16: 'Bad OPT Version',
  17: 'Key not recognized',
  18: 'Signature out of time window',
  19: 'Bad TKEY Mode',
  20: 'Duplicate key name',
  21: 'Algorithm not supported',
  22: 'Bad Truncation',
  23: 'Bad Cookie',
};

export function dnsRcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? 'Unknown';
}

export interface ParsedDNS {
  /** Message ID (pairs a response with its query). */
  id: number;
  response: boolean;
  dns: DNS;
}

let nameEnd = 0;

// Reads a (possibly compressed) name at `o` of the message d[base:end]; sets nameEnd to the
// offset right after it (after the first pointer when compressed).
function readName(d: Uint8Array, base: number, o: number, end: number): string | null {
  let name = '';
  let jumps = 0;
  let after = -1;
  for (;;) {
    if (o >= end) return null;
    const len = d[o];
    if (len === 0) {
      o++;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= end || ++jumps > 16) return null;
      if (after < 0) after = o + 2;
      o = base + (((len & 0x3f) << 8) | d[o + 1]);
      continue;
    }
    if ((len & 0xc0) !== 0 || o + 1 + len > end) return null;
    for (let i = o + 1; i <= o + len; i++) name += String.fromCharCode(d[i]);
    name += '.';
    o += 1 + len;
    if (name.length > 255) return null;
  }
  nameEnd = after >= 0 ? after : o;
  return name === '' ? '.' : name;
}

/** Parses one DNS message at d[start:end] (a UDP payload, or one message of a TCP stream). */
export function parseDNSMessage(d: Uint8Array, start: number, end: number): ParsedDNS | null {
  if (end > d.length) end = d.length;
  if (end - start < 12) return null;
  const id = u16be(d, start);
  const flags = u16be(d, start + 2);
  const qd = u16be(d, start + 4),
    an = u16be(d, start + 6);
  // Each question takes at least 5 bytes and each answer 11: counts that cannot fit are bogus.
  if (qd * 5 + an * 11 > end - start - 12) return null;
  let o = start + 12;
  const dns: DNS = {};
  const rcode = flags & 0x0f;
  const qtypes: string[] = [];
  for (let i = 0; i < qd; i++) {
    const q = readName(d, start, o, end);
    if (q === null || nameEnd + 4 > end) return null;
    if (i === 0) dns.query = q;
    qtypes.push(dnsTypeName(u16be(d, nameEnd)));
    o = nameEnd + 4;
  }
  const ips: string[] = [],
    cnames: string[] = [],
    rrtypes: string[] = [];
  let ttl = -1;
  for (let i = 0; i < an; i++) {
    if (readName(d, start, o, end) === null || nameEnd + 10 > end) return null;
    const type = u16be(d, nameEnd);
    const rttl = u32be(d, nameEnd + 4);
    const rdlen = u16be(d, nameEnd + 8);
    const rd = nameEnd + 10;
    if (rd + rdlen > end) return null;
    rrtypes.push(dnsTypeName(type));
    if (type === 1 && rdlen === 4) ips.push(ipv4At(d, rd));
    else if (type === 28 && rdlen === 16) ips.push(ipv6At(d, rd));
    else if (type === 5) {
      // RDATA names may point back into the whole message.
      const c = readName(d, start, rd, end);
      if (c !== null && nameEnd <= rd + rdlen) cnames.push(c);
    }
    if (type !== 41 && (ttl < 0 || rttl < ttl)) ttl = rttl;
    o = rd + rdlen;
  }
  if (ips.length > 0) dns.ips = ips;
  if (ttl > 0) dns.ttl = ttl;
  if (cnames.length > 0) dns.cnames = cnames;
  if (rcode !== 0) dns.rcode = rcode;
  if (qtypes.length > 0) dns.qtypes = qtypes;
  if (rrtypes.length > 0) dns.rrtypes = rrtypes;
  return { id, response: (flags & 0x8000) !== 0, dns };
}

export interface TcpDnsResult {
  messages: ParsedDNS[];
  /** Messages whose length prefix was complete but whose body did not parse. */
  malformed: number;
  /** 1 when the segment ends inside a message (its rest is in another segment): skipped. */
  partial: number;
}

/**
 * DNS over TCP (RFC 7766): each message carries a 2-byte length prefix and one segment may hold
 * several. Segments that start mid-message cannot be told apart from garbage without stream
 * reassembly: such a message fails to parse and is counted malformed, never guessed.
 */
export function parseTcpDNS(d: Uint8Array, start: number, end: number): TcpDnsResult {
  if (end > d.length) end = d.length;
  const out: TcpDnsResult = { messages: [], malformed: 0, partial: 0 };
  let o = start;
  while (end - o >= 2) {
    const len = u16be(d, o);
    if (o + 2 + len > end) {
      out.partial = 1;
      break;
    }
    const m = parseDNSMessage(d, o + 2, o + 2 + len);
    if (m === null) out.malformed++;
    else out.messages.push(m);
    o += 2 + len;
  }
  if (end - o === 1) out.partial = 1;
  return out;
}

/** Parses a DNS payload at d[start:end]; `tcp` handles the 2-byte length prefix (first message only). */
export function parseDNS(d: Uint8Array, start: number, end: number, tcp: boolean): ParsedDNS | null {
  if (!tcp) return parseDNSMessage(d, start, end);
  const r = parseTcpDNS(d, start, end);
  return r.messages.length > 0 ? r.messages[0] : null;
}

/** Hubble's Flow.Summary for a DNS L7 record (pkg/hubble/parser/seven dnsSummary). */
export function dnsSummary(response: boolean, dns: DNS): string {
  const qtypes = (dns.qtypes ?? []).join(',');
  const query = dns.query ?? '';
  if (!response) return `DNS Query ${query} ${qtypes}`;
  const rcode = dns.rcode ?? 0;
  let answer: string;
  if (rcode !== 0) answer = `RCode: ${dnsRcodeName(rcode)}`;
  else {
    const parts: string[] = [];
    if (dns.ips && dns.ips.length > 0) parts.push(JSON.stringify(dns.ips.join(',')));
    if (dns.cnames && dns.cnames.length > 0) parts.push(`CNAMEs: ${JSON.stringify(dns.cnames.join(','))}`);
    answer = parts.join(' ');
  }
  const sourceType = dns.observation_source === 'proxy' ? 'Proxy' : 'Query';
  return `DNS Answer ${answer} TTL: ${dns.ttl ?? 0} (${sourceType} ${query} ${qtypes})`;
}
