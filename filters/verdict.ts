import type { FilterKind } from './types.js';
import { isSet } from './types.js';

export const verdictFilter: FilterKind = {
  name: 'verdict',
  fields: ['verdict'],
  build(ff, p) {
    if (!isSet(ff.verdict)) return [];
    const vs = [...ff.verdict];
    return [{ match: (f) => vs.includes(f.verdict ?? 0), sql: p.inList('verdict', 'Int32', vs) }];
  },
};
