import { Verdict } from '../proto/types.js';
import type { FilterKind } from './types.js';
import { isSet } from './types.js';

/** reply: uses is_reply; an unknown is_reply counts as false for DROPPED flows only (Hubble
 * keeps that for old clients) and never matches otherwise. Column is_reply: 0/1, 2 = unset. */
export const replyFilter: FilterKind = {
  name: 'reply',
  fields: ['reply'],
  build(ff, p) {
    if (!isSet(ff.reply)) return [];
    const vs = [...ff.reply];
    return [
      {
        match: (f) => {
          if (f.is_reply === undefined && f.verdict !== Verdict.DROPPED) return false;
          return vs.includes(f.is_reply?.value ?? false);
        },
        sql: `(NOT (is_reply = 2 AND verdict != ${Verdict.DROPPED}) AND ${p.inList('if(is_reply = 1, 1, 0)', 'UInt8', vs.map(Number))})`,
      },
    ];
  },
};
