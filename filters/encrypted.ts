import type { FilterKind } from './types.js';
import { isSet } from './types.js';

export const encryptedFilter: FilterKind = {
  name: 'encrypted',
  fields: ['encrypted'],
  build(ff, p) {
    if (!isSet(ff.encrypted)) return [];
    const vs = [...ff.encrypted];
    return [{ match: (f) => vs.includes(f.IP?.encrypted ?? false), sql: p.inList('encrypted', 'UInt8', vs.map(Number)) }];
  },
};
