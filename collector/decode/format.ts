// Address formatting straight from packet bytes. Clusters reuse a small set of addresses, so
// IPv4 and MAC strings are memoised by their numeric value: the hot path is one Map lookup.

const HEX = '0123456789abcdef';
const MAX_CACHE = 1 << 16;

const v4Cache = new Map<number, string>();
const macCache = new Map<number, string>();

/** Dotted-quad of the 4 bytes at `o`. */
export function ipv4At(d: Uint8Array, o: number): string {
  const k = ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
  let s = v4Cache.get(k);
  if (s === undefined) {
    s = `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
    if (v4Cache.size >= MAX_CACHE) v4Cache.clear();
    v4Cache.set(k, s);
  }
  return s;
}

/** Lowercase `aa:bb:cc:dd:ee:ff` of the 6 bytes at `o` (Hubble's formatMAC). */
export function macAt(d: Uint8Array, o: number): string {
  const k = (d[o] * 0x10000 + ((d[o + 1] << 8) | d[o + 2])) * 0x1000000 + ((d[o + 3] << 16) | (d[o + 4] << 8) | d[o + 5]);
  let s = macCache.get(k);
  if (s === undefined) {
    s = '';
    for (let i = 0; i < 6; i++) {
      const b = d[o + i];
      s += (i === 0 ? '' : ':') + HEX[b >> 4] + HEX[b & 15];
    }
    if (macCache.size >= MAX_CACHE) macCache.clear();
    macCache.set(k, s);
  }
  return s;
}

/**
 * IPv6 text of the 16 bytes at `o`, as Go's netip.Addr.String() prints it (RFC 5952: lowercase,
 * longest run of ≥2 zero groups compressed, first run wins a tie; IPv4-mapped as ::ffff:a.b.c.d).
 */
export function ipv6At(d: Uint8Array, o: number): string {
  let mapped = d[o + 10] === 0xff && d[o + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (d[o + i] !== 0) mapped = false;
  if (mapped) return `::ffff:${d[o + 12]}.${d[o + 13]}.${d[o + 14]}.${d[o + 15]}`;
  let bestStart = -1,
    bestLen = 0,
    curStart = -1,
    curLen = 0;
  for (let g = 0; g < 8; g++) {
    if (d[o + 2 * g] === 0 && d[o + 2 * g + 1] === 0) {
      if (curStart < 0) {
        curStart = g;
        curLen = 0;
      }
      curLen++;
      if (curLen > bestLen) {
        bestLen = curLen;
        bestStart = curStart;
      }
    } else curStart = -1;
  }
  if (bestLen < 2) bestStart = -1;
  let s = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += '::';
      g += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(':')) s += ':';
    s += ((d[o + 2 * g] << 8) | d[o + 2 * g + 1]).toString(16);
  }
  return s;
}

/** True when all `n` bytes at `o` are zero (an unspecified address). */
export function allZero(d: Uint8Array, o: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (d[o + i] !== 0) return false;
  return true;
}

/** Little-endian readers: records are written in host order by BPF (x86/arm64: little-endian). */
export function u16le(d: Uint8Array, o: number): number {
  return d[o] | (d[o + 1] << 8);
}
export function u32le(d: Uint8Array, o: number): number {
  return (d[o] | (d[o + 1] << 8) | (d[o + 2] << 16) | (d[o + 3] << 24)) >>> 0;
}
export function i32le(d: Uint8Array, o: number): number {
  return d[o] | (d[o + 1] << 8) | (d[o + 2] << 16) | (d[o + 3] << 24);
}
/** u64 as a JS number (exact below 2^53, which covers trace ids, cookies and cgroup ids in practice). */
export function u64le(d: Uint8Array, o: number): number {
  return u32le(d, o + 4) * 0x100000000 + u32le(d, o);
}
export function u16be(d: Uint8Array, o: number): number {
  return (d[o] << 8) | d[o + 1];
}
export function u32be(d: Uint8Array, o: number): number {
  return ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
}
