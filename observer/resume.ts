// The relay ↔ collector handover, carried in gRPC metadata so the request stays Hubble's own
// GetFlowsRequest (official hubble clients never send these headers and see no difference).
//  * request  `flowscope-resume: <session>=<seq>,…` — the relay's history holds this collector
//    session's flows up to `seq` (its ring cursor); serve the ring after it, then follow.
//  * response `flowscope-session: <session>` — the session whose ring cursors the stream uses,
//    so the relay can tell a restarted collector (served from its ring's start) from a resume.
import type * as grpc from '@grpc/grpc-js';

export const RESUME_HEADER = 'flowscope-resume';
export const SESSION_HEADER = 'flowscope-session';

/** Session ids are the collectors' UUIDs; anything close enough to be one passes. */
const SESSION = /^[A-Za-z0-9._-]{1,128}$/;
const SEQ = /^\d{1,16}$/;
/** A relay names one session per collector; a few more leave room, a bound keeps parsing cheap. */
const MAX_POINTS = 64;

export class ResumeError extends Error {}

/** `session=seq,…` from a map of resume points (the relay's side). */
export function formatResume(points: ReadonlyMap<string, number>): string {
  const out: string[] = [];
  for (const [s, seq] of points) {
    if (!SESSION.test(s)) throw new ResumeError(`invalid session id ${JSON.stringify(s)}`);
    if (!Number.isSafeInteger(seq) || seq < 0) throw new ResumeError(`invalid sequence number ${seq} for session ${s}`);
    out.push(`${s}=${seq}`);
  }
  return out.join(',');
}

/** The resume points of a request, or null when it has none. Throws ResumeError on a malformed value. */
export function parseResume(md: grpc.Metadata): Map<string, number> | null {
  const values = md.get(RESUME_HEADER);
  if (values.length === 0) return null;
  const points = new Map<string, number>();
  for (const v of values) {
    const text = typeof v === 'string' ? v : v.toString('utf8');
    for (const part of text.split(',')) {
      const eq = part.indexOf('=');
      const s = eq < 0 ? '' : part.slice(0, eq).trim();
      const seqText = eq < 0 ? '' : part.slice(eq + 1).trim();
      if (!SESSION.test(s) || !SEQ.test(seqText))
        throw new ResumeError(`invalid ${RESUME_HEADER} entry ${JSON.stringify(part.slice(0, 80))}: want <session>=<seq>`);
      const seq = Number(seqText);
      if (!Number.isSafeInteger(seq)) throw new ResumeError(`${RESUME_HEADER}: sequence number ${seqText} out of range`);
      points.set(s, seq);
      if (points.size > MAX_POINTS) throw new ResumeError(`${RESUME_HEADER}: more than ${MAX_POINTS} sessions`);
    }
  }
  return points;
}
