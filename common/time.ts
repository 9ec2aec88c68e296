import type { Timestamp } from '../proto/types.js';

export function nowTimestamp(): Timestamp {
  return msToTimestamp(Date.now());
}

export function msToTimestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function nsToTimestamp(ns: number): Timestamp {
  const seconds = Math.floor(ns / 1e9);
  return { seconds, nanos: Math.max(0, Math.min(999_999_999, Math.round(ns - seconds * 1e9))) };
}

/** Nanoseconds since the epoch as a double: exact to ~0.25 µs for current dates, enough to order flows. */
export function timestampToNs(ts: Timestamp | undefined): number {
  return ts ? ts.seconds * 1e9 + ts.nanos : 0;
}

export function compareTimestamps(a: Timestamp | undefined, b: Timestamp | undefined): number {
  const as = a?.seconds ?? 0,
    bs = b?.seconds ?? 0;
  return as !== bs ? as - bs : (a?.nanos ?? 0) - (b?.nanos ?? 0);
}
