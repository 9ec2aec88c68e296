import { Verdict } from '../proto/types.js';
import type { FilterKind } from './types.js';
import { isSet } from './types.js';

/** drop_reason_desc: only DROPPED flows can match (Hubble drop_reason_desc.go). */
export const dropReasonFilter: FilterKind = {
  name: 'drop_reason_desc',
  fields: ['drop_reason_desc'],
  build(ff, p) {
    if (!isSet(ff.drop_reason_desc)) return [];
    const vs = [...ff.drop_reason_desc];
    return [
      {
        match: (f) => f.verdict === Verdict.DROPPED && vs.includes(f.drop_reason_desc ?? 0),
        sql: `(verdict = ${Verdict.DROPPED} AND ${p.inList('drop_reason_desc', 'Int32', vs)})`,
      },
    ];
  },
};
