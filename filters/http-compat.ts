import type { FlowFilter } from '../proto/types.js';
import { MessageType } from '../proto/types.js';
import { FilterError } from './errors.js';

/** HTTP filters require the event type filter, if any, to include L7 (access log) events. */
export function requireL7EventType(ff: FlowFilter, what: string): void {
  const ts = ff.event_type ?? [];
  if (ts.length === 0 || ts.some((t) => (t.type ?? 0) === MessageType.ACCESS_LOG)) return;
  throw new FilterError(`filtering by ${what} requires the event type filter to only match 'l7' events`);
}
