import type { FilterKind } from './types.js';
import { isSet } from './types.js';

/** ip_trace_id: exact match of ip_trace_id.trace_id (0 matches flows without one). */
export const ipTraceIdFilter: FilterKind = {
  name: 'ip_trace_id',
  fields: ['ip_trace_id'],
  build(ff, p) {
    if (!isSet(ff.ip_trace_id)) return [];
    const ids = [...ff.ip_trace_id];
    return [{ match: (f) => ids.includes(f.ip_trace_id?.trace_id ?? 0), sql: p.inList('ip_trace_id', 'UInt64', ids.map(String)) }];
  },
};
