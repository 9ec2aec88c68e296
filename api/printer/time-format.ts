// Go time layouts as used by `hubble observe --time-format`, formatted in a chosen time zone.
// hubble prints local time; the zone is an option here so tests (and users) can pin it.

export const LAYOUTS = {
  StampMilli: 'Jan _2 15:04:05.000',
  YearMonthDay: '2006-01-02',
  YearMonthDayHour: '2006-01-02T15Z07:00',
  YearMonthDayHourMinute: '2006-01-02T15:04Z07:00',
  RFC3339: '2006-01-02T15:04:05Z07:00',
  RFC3339Milli: '2006-01-02T15:04:05.999Z07:00',
  RFC3339Micro: '2006-01-02T15:04:05.999999Z07:00',
  RFC3339Nano: '2006-01-02T15:04:05.999999999Z07:00',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
} as const;

export const TIME_FORMAT_NAMES = Object.keys(LAYOUTS) as (keyof typeof LAYOUTS)[];

/** hubble's FormatNameToLayout: case-insensitive; anything unknown means StampMilli. */
export function timeFormatLayout(name: string): string {
  const key = TIME_FORMAT_NAMES.find((k) => k.toLowerCase() === name.toLowerCase());
  return LAYOUTS[key ?? 'StampMilli'];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const offsetCache = new Map<string, Intl.DateTimeFormat>();

/** UTC offset in seconds of zone at the instant; zone undefined/'Local' = process zone. */
export function zoneOffsetSeconds(zone: string | undefined, epochSeconds: number): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 0;
  const ms = epochSeconds * 1000;
  if (zone === undefined || zone === 'Local' || zone === '') return -new Date(ms).getTimezoneOffset() * 60;
  let fmt = offsetCache.get(zone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    offsetCache.set(zone, fmt);
  }
  const p: Record<string, string> = {};
  for (const part of fmt.formatToParts(new Date(ms))) p[part.type] = part.value;
  let year = Number(p.year);
  if (p.era === 'BC' || p.era === 'B') year = 1 - year;
  const d = new Date(0);
  d.setUTCFullYear(year, Number(p.month) - 1, Number(p.day));
  d.setUTCHours(Number(p.hour), Number(p.minute), Number(p.second), 0);
  return Math.round((d.getTime() - Math.floor(ms / 1000) * 1000) / 1000);
}

/** Throws RangeError for a zone name Intl does not know. */
export function checkTimeZone(zone: string): void {
  if (zone === 'Local' || zone === 'UTC') return;
  new Intl.DateTimeFormat('en-US', { timeZone: zone });
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

function fmtOffset(off: number, colon: boolean, zForUTC: boolean): string {
  if (off === 0 && zForUTC) return 'Z';
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const hh = pad(Math.floor(a / 3600), 2);
  const mm = pad(Math.floor((a % 3600) / 60), 2);
  return colon ? `${sign}${hh}:${mm}` : `${sign}${hh}${mm}`;
}

// Layout tokens, longest first where one is a prefix of another.
const TOKEN = /Jan|Mon|Z07:00|-0700|2006|_2|01|02|15|04|05|[.,](?:0+|9+)/y;

// The layout rendered for one second, cut at its fractional-second tokens: flows come in time
// order, so most share the second of the one before and only the fraction is formatted again
// (the zone offset, for a named zone an Intl call, is looked up once per second too).
interface SecondRender {
  layout: string;
  zone: string | undefined;
  seconds: number;
  /** Text around the fractions: parts.length === fracs.length + 1. */
  parts: string[];
  fracs: string[];
}
let lastSecond: SecondRender | null = null;

function renderSecond(layout: string, seconds: number, zone: string | undefined): SecondRender {
  const off = zoneOffsetSeconds(zone, seconds);
  const wall = new Date((seconds + off) * 1000);
  const parts: string[] = [];
  const fracs: string[] = [];
  let out = '';
  let i = 0;
  while (i < layout.length) {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(layout);
    if (!m) {
      out += layout[i];
      i++;
      continue;
    }
    const tok = m[0];
    i += tok.length;
    switch (tok) {
      case 'Jan':
        out += MONTHS[wall.getUTCMonth()];
        break;
      case 'Mon':
        out += DAYS[wall.getUTCDay()];
        break;
      case '2006':
        out += pad(wall.getUTCFullYear(), 4);
        break;
      case '_2':
        out += String(wall.getUTCDate()).padStart(2, ' ');
        break;
      case '01':
        out += pad(wall.getUTCMonth() + 1, 2);
        break;
      case '02':
        out += pad(wall.getUTCDate(), 2);
        break;
      case '15':
        out += pad(wall.getUTCHours(), 2);
        break;
      case '04':
        out += pad(wall.getUTCMinutes(), 2);
        break;
      case '05':
        out += pad(wall.getUTCSeconds(), 2);
        break;
      case 'Z07:00':
        out += fmtOffset(off, true, true);
        break;
      case '-0700':
        out += fmtOffset(off, false, false);
        break;
      default:
        parts.push(out);
        fracs.push(tok);
        out = '';
    }
  }
  parts.push(out);
  return { layout, zone, seconds, parts, fracs };
}

// Fractional seconds: ".000" keeps the digits (truncated), ".999" drops trailing zeros.
function fraction(tok: string, nanos: number): string {
  const frac = String(nanos)
    .padStart(9, '0')
    .slice(0, tok.length - 1);
  if (tok[1] === '0') return tok[0] + frac;
  const trimmed = frac.replace(/0+$/, '');
  return trimmed === '' ? '' : tok[0] + trimmed;
}

/** time.Time.Format(layout) for a Unix instant (seconds + nanos) in zone. */
export function formatGoTime(layout: string, seconds: number, nanos: number, zone?: string): string {
  let r = lastSecond;
  if (r === null || r.seconds !== seconds || r.layout !== layout || r.zone !== zone) r = lastSecond = renderSecond(layout, seconds, zone);
  let out = r.parts[0];
  for (let i = 0; i < r.fracs.length; i++) out += fraction(r.fracs[i], nanos) + r.parts[i + 1];
  return out;
}

/** hubble's fmtTimestamp: "N/A" for a missing or out-of-range Timestamp. */
export function fmtTimestamp(layout: string, ts: { seconds?: number; nanos?: number } | undefined, zone?: string): string {
  if (!ts) return 'N/A';
  const seconds = Number(ts.seconds ?? 0);
  const nanos = ts.nanos ?? 0;
  // timestamppb.IsValid: 0001-01-01T00:00:00Z ≤ t ≤ 9999-12-31T23:59:59.999999999Z.
  if (seconds < -62135596800 || seconds >= 253402300800 || nanos < 0 || nanos >= 1e9) return 'N/A';
  return formatGoTime(layout, seconds, nanos, zone);
}
