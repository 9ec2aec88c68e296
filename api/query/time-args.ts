// `--since` / `--until` values as hubble reads them: a Go duration into the past ("5m",
// "1h30m", "-2h" for the future) or an absolute time in one of hubble's layouts.
import type { Timestamp } from '../../proto/index.js';

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  μs: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;

/** Go's time.ParseDuration, in nanoseconds; undefined when the text is not a duration. */
export function parseGoDuration(input: string): bigint | undefined {
  let s = input;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  const part = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (s !== '') {
    const m = part.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const unitText = /^(ns|us|µs|μs|ms|s|m|h)/.exec(m[3]);
    if (!unitText || unitText[1] !== m[3]) return undefined;
    const unit = UNITS[unitText[1]];
    let v = BigInt(m[1] === '' ? '0' : m[1]) * unit;
    if (m[2]) {
      // Fractions are scaled exactly, truncating below a nanosecond as Go does.
      v += (BigInt(m[2]) * unit) / 10n ** BigInt(m[2].length);
    }
    total += v;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) return undefined;
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function toTimestamp(y: number, mo: number, d: number, h: number, mi: number, sec: number, frac: string, offsetMin: number): Timestamp | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1] || (mo === 2 && d === 29 && !isLeap(y))) return undefined;
  if (h > 23 || mi > 59 || sec > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, sec, 0);
  const seconds = date.getTime() / 1000 - offsetMin * 60;
  return { seconds, nanos: frac ? Number(frac.slice(0, 9).padEnd(9, '0')) : 0 };
}

function zoneMinutes(z: string | undefined, colon: boolean): number | undefined {
  if (z === undefined || z === 'Z') return 0;
  const m = colon ? /^([+-])(\d{2}):(\d{2})$/.exec(z) : /^([+-])(\d{2})(\d{2})$/.exec(z);
  if (!m) return undefined;
  const hh = Number(m[2]);
  const mm = Number(m[3]);
  if (hh > 23 || mm > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hh * 60 + mm);
}

// hubble's accepted layouts (YearMonthDay … RFC3339Nano, RFC1123Z). Go's parser also accepts a
// fractional second after the seconds field of any layout, hence the optional fraction.
const Z = '(Z|[+-]\\d{2}:\\d{2})';
const DATE = '(\\d{4})-(\\d{2})-(\\d{2})';
const ABSOLUTE: Array<{ re: RegExp; parse: (m: RegExpExecArray) => Timestamp | undefined }> = [
  { re: new RegExp(`^${DATE}$`), parse: (m) => toTimestamp(+m[1], +m[2], +m[3], 0, 0, 0, '', 0) },
  { re: new RegExp(`^${DATE}T(\\d{2})${Z}$`), parse: (m) => withZone(m[5], true, (o) => toTimestamp(+m[1], +m[2], +m[3], +m[4], 0, 0, '', o)) },
  { re: new RegExp(`^${DATE}T(\\d{2}):(\\d{2})${Z}$`), parse: (m) => withZone(m[6], true, (o) => toTimestamp(+m[1], +m[2], +m[3], +m[4], +m[5], 0, '', o)) },
  {
    re: new RegExp(`^${DATE}T(\\d{2}):(\\d{2}):(\\d{2})(?:[.,](\\d+))?${Z}$`),
    parse: (m) => withZone(m[8], true, (o) => toTimestamp(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6], m[7] ?? '', o)),
  },
  {
    re: /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))? ([+-]\d{4})$/,
    parse: (m) =>
      withZone(m[9], false, (o) => {
        const ts = toTimestamp(+m[4], MONTHS.indexOf(m[3]) + 1, +m[2], +m[5], +m[6], +m[7], m[8] ?? '', o);
        // Go rejects a weekday that does not match the date.
        if (ts && WEEKDAYS[new Date((ts.seconds + o * 60) * 1000).getUTCDay()] !== m[1]) return undefined;
        return ts;
      }),
  },
];

function withZone(z: string, colon: boolean, f: (offsetMin: number) => Timestamp | undefined): Timestamp | undefined {
  const o = zoneMinutes(z, colon);
  return o === undefined ? undefined : f(o);
}

/**
 * hubble's FromString: a duration counts back from now; otherwise the absolute layouts are
 * tried in order. Returns undefined for text that is neither.
 */
export function parseTimeArg(input: string, nowMs: number): Timestamp | undefined {
  const d = parseGoDuration(input);
  if (d !== undefined) {
    const ns = BigInt(Math.round(nowMs)) * 1_000_000n - d;
    const seconds = ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n);
    const nanos = ns - seconds * 1_000_000_000n;
    return { seconds: Number(seconds), nanos: Number(nanos) };
  }
  for (const { re, parse } of ABSOLUTE) {
    const m = re.exec(input);
    if (m) return parse(m);
  }
  return undefined;
}

/** timestamppb.CheckValid: within years 1..9999. */
export function isValidTimestamp(ts: Timestamp): boolean {
  return ts.seconds >= -62135596800 && ts.seconds < 253402300800 && ts.nanos >= 0 && ts.nanos < 1e9;
}
