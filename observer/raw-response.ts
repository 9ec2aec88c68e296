// A GetFlowsResponse carrying a flow, kept as the bytes a collector sent. The relay's live path
// merges collectors' flows by time and writes them to its followers unchanged, as Hubble Relay
// forwards its peers' responses: reading only the response's `time` field instead of decoding
// the whole flow (and encoding it again) keeps per-flow JavaScript objects off that path.
import type { Flow, GetFlowsResponse, Timestamp } from '../proto/types.js';
import { types, decode } from '../proto/index.js';

// GetFlowsResponse field numbers (observer.proto) and the protobuf wire types used here.
const FIELD_FLOW = 1;
const FIELD_NODE_NAME = 1000;
const FIELD_TIME = 1001;
const WIRE_VARINT = 0;
const WIRE_LEN = 2;

export class RawFlowResponse {
  constructor(
    /** The whole encoded GetFlowsResponse, as received. */
    readonly bytes: Buffer,
    /** Its `time` (the flow's time, as every collector sets it). */
    readonly seconds: number,
    readonly nanos: number,
  ) {}

  get time(): Timestamp {
    return { seconds: this.seconds, nanos: this.nanos };
  }

  /** The time in nanoseconds as a number (ordering; not exact beyond 2^53). */
  get timeNs(): number {
    return this.seconds * 1e9 + this.nanos;
  }

  /** Compares the time with `t`: negative when earlier, 0 when equal, positive when later. */
  compareTime(t: Timestamp): number {
    return this.seconds !== (t.seconds ?? 0) ? this.seconds - (t.seconds ?? 0) : this.nanos - (t.nanos ?? 0);
  }

  /** The decoded response (for a follower that needs the flow's fields: a field mask, a scope). */
  decode(): GetFlowsResponse & { flow: Flow } {
    return decode<GetFlowsResponse & { flow: Flow }>(types.GetFlowsResponse, this.bytes);
  }
}

// The scan reads varints into `at` (the position after it) and returns the value, -1 when
// malformed: no array or object per field on this per-flow path.
let at = 0;

/** A varint at `p` (at most ten bytes, at most 2^53: no time or length here needs more), or -1. */
function varint(b: Buffer, p: number, end: number): number {
  let v = 0,
    mul = 1;
  for (let i = 0; i < 10 && p < end; i++) {
    const x = b[p++];
    v += (x & 0x7f) * mul;
    if (x < 0x80) {
      at = p;
      return v <= Number.MAX_SAFE_INTEGER ? v : -1;
    }
    mul *= 128;
  }
  return -1;
}

/**
 * The response as a RawFlowResponse when it is well-formed and carries a flow and a time; null
 * for anything else (node status, lost events, a flow without time, bytes this scan does not
 * accept), which the caller decodes the usual way.
 */
export function scanFlowResponse(b: Buffer): RawFlowResponse | null {
  let hasFlow = false,
    hasTime = false,
    seconds = 0,
    nanos = 0;
  for (let p = 0; p < b.length;) {
    const tag = varint(b, p, b.length);
    // The response's own fields are all length-delimited (wire type 2).
    if (tag < 0 || tag % 8 !== WIRE_LEN) return null;
    const len = varint(b, at, b.length);
    if (len < 0 || at + len > b.length) return null;
    const field = Math.floor(tag / 8),
      start = at,
      end = at + len;
    if (field === FIELD_FLOW) hasFlow = true;
    else if (field === FIELD_TIME) {
      // Timestamp: seconds = 1, nanos = 2, both varints.
      hasTime = true;
      for (let q = start; q < end;) {
        const t = varint(b, q, end);
        if (t < 0 || t % 8 !== WIRE_VARINT) return null;
        const v = varint(b, at, end);
        if (v < 0) return null;
        q = at;
        if (t >> 3 === 1) seconds = v;
        else if (t >> 3 === 2) nanos = v;
      }
    } else if (field !== FIELD_NODE_NAME) return null; // node status, lost events, unknown fields
    p = end;
  }
  return hasFlow && hasTime && nanos < 1e9 ? new RawFlowResponse(b, seconds, nanos) : null;
}
