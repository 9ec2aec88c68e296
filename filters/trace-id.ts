import type { FilterKind } from './types.js';
import { isSet } from './types.js';

/** trace_id: exact match of trace_context.parent.trace_id ("" matches flows without one). */
export const traceIdFilter: FilterKind = {
  name: 'trace_id',
  fields: ['trace_id'],
  build(ff, p) {
    if (!isSet(ff.trace_id)) return [];
    const ids = [...ff.trace_id];
    return [{ match: (f) => ids.includes(f.trace_context?.parent?.trace_id ?? ''), sql: p.inList('trace_id', 'String', ids) }];
  },
};
