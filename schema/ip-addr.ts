// IP parsing and matching with Go's `net` semantics, which Hubble's IP filter uses
// (net.ParseIP / net.ParseCIDR / IPNet.Contains). Addresses live in the 16-byte form: IPv4
// as ::ffff:a.b.c.d, exactly as Go's To16() and as ClickHouse's IPv6 column store them.

export type IP16 = Uint8Array; // length 16

function parseV4(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // Go rejects empty fields, non-digits, values > 255 and (since 1.17) leading zeros.
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

/** net.ParseIP: returns the 16-byte address, or undefined (zones are rejected, as in Go). */
export function parseIP(s: string): IP16 | undefined {
  const out = new Uint8Array(16);
  if (!s.includes(':')) {
    out[10] = 0xff;
    out[11] = 0xff;
    return parseV4(s, out, 12) ? out : undefined;
  }
  let head = s,
    tail = '';
  const dc = s.indexOf('::');
  if (dc >= 0) {
    if (s.indexOf('::', dc + 1) >= 0) return undefined;
    head = s.slice(0, dc);
    tail = s.slice(dc + 2);
  }
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const fields = part.split(':');
    const res: number[] = [];
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (i === fields.length - 1 && f.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseV4(f, v4, 0)) return undefined;
        res.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(f)) return undefined;
        res.push(parseInt(f, 16));
      }
    }
    return res;
  };
  const h = groups(head),
    t = groups(tail);
  if (!h || !t) return undefined;
  // An embedded IPv4 part may only end the address.
  if (dc >= 0 && head.includes('.')) return undefined;
  const total = h.length + t.length;
  if (dc < 0 ? total !== 8 : total > 7) return undefined;
  const all = [...h, ...new Array(8 - total).fill(0), ...t];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 0xff;
  }
  return out;
}

export function isV4Mapped(ip: IP16): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

/** net.IP.String(): dotted quad for IPv4-mapped addresses, RFC 5952 otherwise. */
export function formatIP(ip: IP16): string {
  if (isV4Mapped(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((ip[2 * i] << 8) | ip[2 * i + 1]);
  let bestStart = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i >= 2 && j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(':');
  const left = g
    .slice(0, bestStart)
    .map((x) => x.toString(16))
    .join(':');
  const right = g
    .slice(bestStart + bestLen)
    .map((x) => x.toString(16))
    .join(':');
  return `${left}::${right}`;
}

/** Uncompressed text form, accepted by every ClickHouse IPv6 parser. */
export function fullIPv6(ip: IP16): string {
  const g: string[] = [];
  for (let i = 0; i < 8; i++) g.push(((ip[2 * i] << 8) | ip[2 * i + 1]).toString(16));
  return g.join(':');
}

export function ipFromHex(hex: string): IP16 {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * A parsed net.ParseCIDR network as an inclusive range of 16-byte addresses plus whether
 * IPv4-mapped addresses are excluded: Go's IPNet.Contains never lets an IPv4 address match a
 * network whose (masked) number is not IPv4, and maps IPv4 networks onto the last 4 bytes.
 */
export interface CIDRRange {
  lo: IP16;
  hi: IP16;
  excludeV4: boolean;
}

export function parseCIDR(s: string): CIDRRange | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash),
    bits = s.slice(slash + 1);
  const ip = parseIP(addr);
  if (!ip || !/^[0-9]+$/.test(bits) || bits.length > 3) return undefined;
  const v4syntax = !addr.includes(':');
  const n = Number(bits);
  if (n > (v4syntax ? 32 : 128)) return undefined;
  // Mask in 16-byte space: a 4-byte mask covers the last 4 bytes after the ::ffff: prefix.
  const maskBits = v4syntax ? 96 + n : n;
  const lo = new Uint8Array(16),
    hi = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, maskBits - 8 * i));
    const m = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    lo[i] = ip[i] & m;
    hi[i] = (ip[i] & m) | (~m & 0xff);
  }
  if (isV4Mapped(lo)) {
    // Go reduces the network to 4 bytes and uses mask[12:]; the range above already has
    // exactly that shape once the first 12 bytes are pinned to the mapped prefix.
    for (let i = 0; i < 12; i++) hi[i] = lo[i];
    return { lo, hi, excludeV4: false };
  }
  return { lo, hi, excludeV4: true };
}

function cmp(a: IP16, b: IP16): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

export function cidrContains(r: CIDRRange, ip: IP16): boolean {
  if (r.excludeV4 && isV4Mapped(ip)) return false;
  return cmp(ip, r.lo) >= 0 && cmp(ip, r.hi) <= 0;
}
