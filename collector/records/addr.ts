// Text → bytes for addresses used by the record builders (tests and the synthetic source).

/** IPv4 dotted quad → 4 bytes. Throws on malformed input (builders are fed trusted constants). */
export function ipv4Bytes(s: string): Uint8Array {
  const parts = s.split('.');
  if (parts.length !== 4) throw new Error(`invalid IPv4 address ${JSON.stringify(s)}`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (!Number.isInteger(n) || n < 0 || n > 255 || parts[i] === '') throw new Error(`invalid IPv4 address ${JSON.stringify(s)}`);
    out[i] = n;
  }
  return out;
}

/** IPv6 text (with :: and an optional dotted IPv4 tail) → 16 bytes. */
export function ipv6Bytes(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  let tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) > 0) {
    tail = ipv4Bytes(text.slice(lastColon + 1));
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`invalid IPv6 address ${JSON.stringify(s)}`);
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const rest = halves.length === 2 ? (halves[1] === '' ? [] : halves[1].split(':')) : [];
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) throw new Error(`invalid IPv6 address ${JSON.stringify(s)}`);
  groups.forEach((g: string, i: number) => {
    const n = parseInt(g, 16);
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`invalid IPv6 address ${JSON.stringify(s)}`);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

export function isIPv6(s: string): boolean {
  return s.includes(':');
}

/** Either family: 4 or 16 bytes. */
export function ipBytes(s: string): Uint8Array {
  return isIPv6(s) ? ipv6Bytes(s) : ipv4Bytes(s);
}

/** MAC "aa:bb:cc:dd:ee:ff" → 6 bytes. */
export function macBytes(s: string): Uint8Array {
  const parts = s.split(':');
  if (parts.length !== 6) throw new Error(`invalid MAC ${JSON.stringify(s)}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
