// DNS message parsing for payloads captured with UDP/TCP port 53 packets. Produces the fields of
// Hubble's flow.DNS (query with trailing dot, ips, minimum answer TTL, cnames, rcode, qtypes,
// rrtypes). Bounded: compression pointers are followed at most 16 times per name, and any
// structure running past the payload makes the parse fail (null) instead of guessing.
import type { DNS } from '../../proto/types.js';
import { ipv4At, ipv6At, u16be, u32be } from './format.js';

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV',
  35: 'NAPTR', 39: 'DNAME', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS',
  99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};

/** DNS RR type mnemonic (TYPE<n> for unnamed types, as in RFC 3597). */
export function dnsTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

export interface ParsedDNS { response: boolean; dns: DNS }

let nameEnd = 0;

// Reads a (possibly compressed) name at `o`; sets nameEnd to the offset after it in the record.
function readName(d: Uint8Array, base: number, o: number, end: number): string | null {
  let name = '';
  let jumps = 0;
  let after = -1;
  for (;;) {
    if (o >= end) return null;
    const len = d[o];
    if (len === 0) { o++; break; }
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

/** Parses a DNS message at d[start:end]; `tcp` skips the 2-byte length prefix of DNS over TCP. */
export function parseDNS(d: Uint8Array, start: number, end: number, tcp: boolean): ParsedDNS | null {
  if (tcp) {
    if (end - start < 2) return null;
    const mlen = u16be(d, start);
    start += 2;
    if (start + mlen < end) end = start + mlen;
  }
  if (end - start < 12) return null;
  const flags = u16be(d, start + 2);
  const qd = u16be(d, start + 4), an = u16be(d, start + 6);
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
  const ips: string[] = [], cnames: string[] = [], rrtypes: string[] = [];
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
      const c = readName(d, start, rd, rd + rdlen);
      if (c !== null) cnames.push(c);
    }
    if (type !== 41 && (ttl < 0 || rttl < ttl)) ttl = rttl;
    o = rd + rdlen;
  }
  if (ips.length > 0) dns.ips = ips;
  if (ttl > 0) dns.ttl = ttl;
  if (cnames.length > 0) dns.cnames = cnames;
  if (qtypes.length > 0) dns.qtypes = qtypes;
  if (rrtypes.length > 0) dns.rrtypes = rrtypes;
  if (rcode !== 0) dns.rcode = rcode;
  return { response: (flags & 0x8000) !== 0, dns };
}
