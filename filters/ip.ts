// source_ip / destination_ip / source_ip_xlated: exact string match or CIDR (Go net semantics).
// Storage keeps each address as IPv6 bytes (`ip_*`), an `ip_ok` bit when the flow's string
// parses, and `ip_*_raw` holding the original string only when it is not the canonical form
// of those bytes; so "flow string == value" is decidable in SQL without storing every string.
import type { Flow } from '../proto/types.js';
import { FilterError } from './errors.js';
import { parseIP, parseCIDR, cidrContains, formatIP, fullIPv6, type CIDRRange } from '../schema/ip-addr.js';
import type { Compiled, FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import type { Params } from './params.js';

export const IP_COLUMNS = {
  source: { col: 'ip_src', raw: 'ip_src_raw', okBit: 1 },
  destination: { col: 'ip_dst', raw: 'ip_dst_raw', okBit: 2 },
  source_xlated: { col: 'ip_xlated', raw: 'ip_xlated_raw', okBit: 4 },
} as const;
type Which = keyof typeof IP_COLUMNS;

function compile(values: readonly string[], which: Which, p: Params): Compiled {
  const exact: string[] = [];
  const cidrs: CIDRRange[] = [];
  for (const v of values) {
    if (v.includes('/')) {
      const r = parseCIDR(v);
      if (!r) throw new FilterError(`invalid CIDR in filter: ${JSON.stringify(v)}`);
      cidrs.push(r);
    } else {
      if (!parseIP(v)) throw new FilterError(`invalid IP address in filter: ${JSON.stringify(v)}`);
      exact.push(v);
    }
  }
  const { col, raw, okBit } = IP_COLUMNS[which];
  const ok = `bitAnd(ip_ok, ${okBit}) != 0`;
  const sql: string[] = [];
  for (const v of exact) {
    const ip = parseIP(v)!;
    sql.push(formatIP(ip) === v ? `(${ok} AND ${raw} = '' AND ${col} = toIPv6(${p.str(fullIPv6(ip))}))` : `${raw} = ${p.str(v)}`);
  }
  for (const r of cidrs) {
    const range = `${col} BETWEEN toIPv6(${p.str(fullIPv6(r.lo))}) AND toIPv6(${p.str(fullIPv6(r.hi))})`;
    const v4 = `${col} BETWEEN toIPv6('::ffff:0.0.0.0') AND toIPv6('::ffff:255.255.255.255')`;
    sql.push(`(${ok} AND ${range}${r.excludeV4 ? ` AND NOT (${v4})` : ''})`);
  }
  const get = (f: Flow) => f.IP?.[which] ?? '';
  return {
    match: (f) => {
      const s = get(f);
      if (s === '') return false;
      if (exact.includes(s)) return true;
      if (cidrs.length === 0) return false;
      const ip = parseIP(s);
      return ip !== undefined && cidrs.some((r) => cidrContains(r, ip));
    },
    sql: anyOf(sql),
  };
}

export const ipFilter: FilterKind = {
  name: 'ip',
  fields: ['source_ip', 'destination_ip', 'source_ip_xlated'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_ip)) out.push(compile(ff.source_ip, 'source', p));
    if (isSet(ff.destination_ip)) out.push(compile(ff.destination_ip, 'destination', p));
    if (isSet(ff.source_ip_xlated)) out.push(compile(ff.source_ip_xlated, 'source_xlated', p));
    return out;
  },
};
