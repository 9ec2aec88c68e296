// DNS wire-format builders (uncompressed names) for synthetic traffic and tests.
import { ipBytes } from './addr.js';

const QTYPE: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33 };

export interface DnsAnswer {
  name: string;
  type: 'A' | 'AAAA' | 'CNAME';
  ttl: number;
  data: string;
}
export interface DnsMessage {
  id: number;
  response: boolean;
  name: string;
  qtype: keyof typeof QTYPE | string;
  rcode?: number;
  answers?: DnsAnswer[];
}

function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    if (label === '') continue;
    out.push(label.length, ...Buffer.from(label, 'ascii'));
  }
  out.push(0);
  return out;
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}
function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** A DNS message: one question, optional answers; recursion desired (and available in responses). */
export function dnsMessage(m: DnsMessage): Uint8Array {
  const answers = m.answers ?? [];
  const flags = m.response ? 0x8180 | ((m.rcode ?? 0) & 0x0f) : 0x0100;
  const qtype = QTYPE[m.qtype] ?? Number(m.qtype);
  const bytes: number[] = [...u16(m.id), ...u16(flags), ...u16(1), ...u16(answers.length), ...u16(0), ...u16(0)];
  bytes.push(...encodeName(m.name), ...u16(qtype), ...u16(1));
  for (const a of answers) {
    const rdata = a.type === 'CNAME' ? encodeName(a.data) : [...ipBytes(a.data)];
    bytes.push(...encodeName(a.name), ...u16(QTYPE[a.type]), ...u16(1), ...u32(a.ttl), ...u16(rdata.length), ...rdata);
  }
  return Uint8Array.from(bytes);
}
