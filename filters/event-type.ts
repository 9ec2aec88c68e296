import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import { P, has } from '../schema/presence.js';

/** event_type: type 0 matches any type; sub_type only counts with match_sub_type. A flow
 * without an event_type never matches. */
export const eventTypeFilter: FilterKind = {
  name: 'event_type',
  fields: ['event_type'],
  build(ff, p) {
    if (!isSet(ff.event_type)) return [];
    const ts = ff.event_type.map((t) => ({ type: t.type ?? 0, match: t.match_sub_type ?? false, sub: t.sub_type ?? 0 }));
    const sql = ts.map((t) => {
      const parts = ['1'];
      if (t.type !== 0) parts.push(`event_type = ${p.i32(t.type)}`);
      if (t.match) parts.push(`event_subtype = ${p.i32(t.sub)}`);
      return `(${parts.join(' AND ')})`;
    });
    return [
      {
        match: (f) => {
          const e = f.event_type;
          if (!e) return false;
          return ts.some((t) => (t.type === 0 || t.type === (e.type ?? 0)) && (!t.match || t.sub === (e.sub_type ?? 0)));
        },
        sql: `(${has(P.EVENT_TYPE)} AND ${anyOf(sql)})`,
      },
    ];
  },
};
