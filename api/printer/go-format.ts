// Number and string formatting that reproduces Go's fmt/strconv/time output, because the
// official CLI is written in Go and its text output is the compatibility target.

/**
 * fmt's "%.<digits>f": like toFixed, except that an exact tie rounds half to even
 * (Go rounds the exact binary value with round-half-even; toFixed rounds ties up).
 */
export function goFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
  const fixed = x.toFixed(digits);
  // toFixed(100) is the exact decimal expansion for every double of practical magnitude.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (rest[0] !== '5' || /[1-9]/.test(rest.slice(1))) return fixed;
  // Exact tie: toFixed rounded away from zero; round to even instead.
  const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 0) return (x < 0 ? '-' : '') + kept;
  return fixed;
}

/** Pads s on the left to width (fmt's "%<width>s" / "%6.2f" right alignment). */
export function padLeft(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

/** Groups digits by three with commas (hubble's uint64Grouping: 1000000 → 1,000,000). */
export function uint64Grouping(n: number | bigint): string {
  const s = BigInt(n).toString();
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const NS_PER = { us: 1000n, ms: 1_000_000n, s: 1_000_000_000n } as const;

// Go's fmtFrac: the fraction of v at prec digits without trailing zeros (and no dot if zero).
function fracPart(v: bigint, prec: number): { frac: string; rest: bigint } {
  let digits = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const d = v % 10n;
    print = print || d !== 0n;
    if (print) digits = d.toString() + digits;
    v /= 10n;
  }
  return { frac: print ? `.${digits}` : '', rest: v };
}

/** time.Duration.String() for a nanosecond count (e.g. 100000000000 → "1m40s"). */
export function goDuration(ns: number | bigint): string {
  let u = BigInt(ns);
  const neg = u < 0n;
  if (neg) u = -u;
  let out: string;
  if (u < NS_PER.s) {
    if (u === 0n) return '0s';
    let unit: string;
    let prec: number;
    if (u < NS_PER.us) {
      unit = 'ns';
      prec = 0;
    } else if (u < NS_PER.ms) {
      unit = 'µs';
      prec = 3;
    } else {
      unit = 'ms';
      prec = 6;
    }
    const { frac, rest } = fracPart(u, prec);
    out = `${rest}${frac}${unit}`;
  } else {
    const { frac, rest } = fracPart(u, 9);
    out = `${rest % 60n}${frac}s`;
    const mins = rest / 60n;
    if (mins > 0n) {
      out = `${mins % 60n}m${out}`;
      const hours = mins / 60n;
      if (hours > 0n) out = `${hours}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** time.Duration.Round(time.Second): halfway values round away from zero. */
export function roundToSecondNs(ns: number): number {
  const s = 1_000_000_000;
  const r = ns % s;
  if (r + r < s) return ns - r;
  return ns + (s - r);
}

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** strconv.Quote: a double-quoted Go string literal with Go's escapes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Go's path.Join: joins non-empty elements with "/" and cleans the result. */
export function goPathJoin(...elems: string[]): string {
  const parts = elems.filter((e) => e !== '');
  return parts.length === 0 ? '' : goPathClean(parts.join('/'));
}

/** goPathJoin(a, b) without the general path: namespace/pod names are almost always two plain
 * segments (no "/", not "." or ".."), which join as they are. Same result as goPathJoin. */
export function goPathJoin2(a: string, b: string): string {
  if (a !== '' && b !== '' && plainSegment(a) && plainSegment(b)) return `${a}/${b}`;
  return goPathJoin(a, b);
}

function plainSegment(s: string): boolean {
  return s !== '.' && s !== '..' && s.indexOf('/') === -1;
}

/** Go's path.Clean (lexical: collapses "//", ".", ".."). */
export function goPathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** net.JoinHostPort: brackets hosts that contain a colon (IPv6). */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
