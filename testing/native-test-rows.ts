// Test helpers: a column of every supported type, seeded random rows with the awkward values
// (empty strings and arrays, multi-byte UTF-8, long strings, 2^53−1, both kinds of IPv6
// address, the ends of the DateTime64(9) range), and the SQL to read them back from chDB.
import { rng } from './gen-flows.js';
import type { NativeColumn } from '../schema/native/types.js';
import { NativeBlockWriter } from '../schema/native/writer.js';

export const ALL_TYPES: readonly NativeColumn[] = [
  { name: 'i', type: 'UInt32' }, // row number, to read rows back in order
  { name: 'u8', type: 'UInt8' },
  { name: 'u16', type: 'UInt16' },
  { name: 'u32', type: 'UInt32' },
  { name: 'u64', type: 'UInt64' },
  { name: 'i32', type: 'Int32' },
  { name: 't', type: 'DateTime64(9)' },
  { name: 'ip', type: 'IPv6' },
  { name: 's', type: 'String' },
  { name: 'lc', type: 'LowCardinality(String)' },
  { name: 'a_s', type: 'Array(String)' },
  { name: 'a_lc', type: 'Array(LowCardinality(String))' },
  { name: 'a_u64', type: 'Array(UInt64)' },
  // Always empty: an Array(LowCardinality) whose block has no elements has no granule at all.
  { name: 'a_none', type: 'Array(LowCardinality(String))' },
];

export interface Row {
  i: number;
  u8: number;
  u16: number;
  u32: number;
  u64: number;
  i32: number;
  t: [number, number];
  ip: Uint8Array;
  s: string;
  lc: string;
  a_s: string[];
  a_lc: string[];
  a_u64: number[];
}

const MAX_DT64_SECONDS = 9_223_372_035; // DateTime64(9) ends on 2262-04-11

const STRINGS = [
  '',
  'a',
  'ü',
  'naïve — ✓',
  '𝄞 emoji 😀',
  'tab\there',
  'nul\0byte',
  '"quoted" \\ back',
  'x'.repeat(42),
  'é'.repeat(43),
  'y'.repeat(96),
  'z'.repeat(97),
  'long ✓'.repeat(40),
];

export function randomRows(n: number, seed: number, opts: { distinct?: number } = {}): Row[] {
  const r = rng(seed);
  const int = (max: number) => Math.floor(r() * max);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const str = (): string => (r() < 0.7 ? pick(STRINGS) : randomString(r, int(150)));
  const lcValue = (): string => (opts.distinct ? `v${int(opts.distinct)}` : str());
  const u64 = (): number => pick([0, 1, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, int(Number.MAX_SAFE_INTEGER), int(1000)]);
  const arr = <T>(f: () => T): T[] => Array.from({ length: r() < 0.3 ? 0 : int(5) }, f);
  return Array.from({ length: n }, (_, i) => ({
    i,
    u8: pick([0, 255, int(256)]),
    u16: pick([0, 65535, int(65536)]),
    u32: pick([0, 2 ** 32 - 1, int(2 ** 32)]),
    u64: u64(),
    i32: pick([-(2 ** 31), 2 ** 31 - 1, 0, -1, int(2 ** 32) - 2 ** 31]),
    t: [pick([0, MAX_DT64_SECONDS, 1_700_000_000, int(MAX_DT64_SECONDS)]), pick([0, 999_999_999, int(1e9)])],
    ip: randomIP(r),
    s: str(),
    lc: lcValue(),
    a_s: arr(str),
    a_lc: arr(lcValue),
    a_u64: arr(u64),
  }));
}

function randomString(r: () => number, len: number): string {
  const ranges = [
    [0x20, 0x7e],
    [0xa0, 0x7ff],
    [0x800, 0xd7ff],
    [0x1f600, 0x1f64f],
  ];
  let s = '';
  for (let i = 0; i < len; i++) {
    const [lo, hi] = ranges[Math.floor(r() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(r() * (hi - lo + 1)));
  }
  return s;
}

/** IPv4-mapped (::ffff:a.b.c.d), a real IPv6 address, or ::. */
function randomIP(r: () => number): Uint8Array {
  const ip = new Uint8Array(16);
  const k = r();
  if (k < 0.45) {
    ip[10] = 0xff;
    ip[11] = 0xff;
    for (let j = 12; j < 16; j++) ip[j] = Math.floor(r() * 256);
  } else if (k < 0.9) for (let j = 0; j < 16; j++) ip[j] = Math.floor(r() * 256);
  return ip;
}

/** Appends rows in ALL_TYPES order. */
export function writeRows(w: NativeBlockWriter, rows: readonly Row[]): void {
  for (const x of rows) {
    let c = 0;
    w.u32(c++, x.i);
    w.u8(c++, x.u8);
    w.u16(c++, x.u16);
    w.u32(c++, x.u32);
    w.u64(c++, x.u64);
    w.i32(c++, x.i32);
    w.dateTime64ns(c++, x.t[0], x.t[1]);
    w.ipv6(c++, x.ip);
    w.str(c++, x.s);
    w.str(c++, x.lc);
    w.strArray(c++, x.a_s);
    w.strArray(c++, x.a_lc);
    w.u64Array(c++, x.a_u64);
    w.strArray(c++, []);
    w.endRow();
  }
}

export function blockOf(rows: readonly Row[]): Buffer {
  const w = new NativeBlockWriter(ALL_TYPES);
  writeRows(w, rows);
  return w.finish();
}

/** The values readNativeBlock yields for the rows, column by column. */
export function expectedColumns(rows: readonly Row[]): unknown[][] {
  return [
    rows.map((x) => x.i),
    rows.map((x) => x.u8),
    rows.map((x) => x.u16),
    rows.map((x) => x.u32),
    rows.map((x) => x.u64),
    rows.map((x) => x.i32),
    rows.map((x) => BigInt(x.t[0]) * 1_000_000_000n + BigInt(x.t[1])),
    rows.map((x) => Buffer.from(x.ip)),
    rows.map((x) => x.s),
    rows.map((x) => x.lc),
    rows.map((x) => x.a_s),
    rows.map((x) => x.a_lc),
    rows.map((x) => x.a_u64),
    rows.map(() => []),
  ];
}

/** CREATE TABLE with the ALL_TYPES columns. */
export function createTableSQL(table: string): string {
  return `CREATE TABLE ${table} (${ALL_TYPES.map((c) => `${c.name} ${c.type}`).join(', ')}) ENGINE = MergeTree ORDER BY i`;
}

/** SELECT of the ALL_TYPES columns whose JSONCompactEachRow rows {@link rowFromJSON} reads. */
export function selectSQL(table: string): string {
  return `SELECT i, u8, u16, u32, toString(u64), i32, toString(toUnixTimestamp64Nano(t)), hex(ip), s, lc, a_s, a_lc, arrayMap(x -> toString(x), a_u64), a_none FROM ${table} ORDER BY i`;
}

export function rowFromJSON(j: unknown[]): unknown[] {
  const [i, u8, u16, u32, u64, i32, t, ip, s, lc, aS, aLc, aU64, aNone] = j as [
    number,
    number,
    number,
    number,
    string,
    number,
    string,
    string,
    string,
    string,
    string[],
    string[],
    string[],
    string[],
  ];
  return [i, u8, u16, u32, Number(u64), i32, BigInt(t), Buffer.from(ip, 'hex'), s, lc, aS, aLc, aU64.map(Number), aNone];
}

/** The rows as {@link rowFromJSON} yields them. */
export function expectedRows(rows: readonly Row[]): unknown[][] {
  const cols = expectedColumns(rows);
  return rows.map((_, i) => cols.map((c) => c[i]));
}
