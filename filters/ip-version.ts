import type { FilterKind } from './types.js';
import { isSet } from './types.js';

export const ipVersionFilter: FilterKind = {
  name: 'ip_version',
  fields: ['ip_version'],
  build(ff, p) {
    if (!isSet(ff.ip_version)) return [];
    const vs = [...ff.ip_version];
    return [{ match: (f) => vs.includes(f.IP?.ipVersion ?? 0), sql: p.inList('ip_version', 'Int32', vs) }];
  },
};
