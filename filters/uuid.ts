import type { FilterKind } from './types.js';
import { isSet } from './types.js';

export const uuidFilter: FilterKind = {
  name: 'uuid',
  fields: ['uuid'],
  build(ff, p) {
    if (!isSet(ff.uuid)) return [];
    const ids = [...ff.uuid];
    return [{ match: (f) => ids.includes(f.uuid ?? ''), sql: p.inList('uuid', 'String', ids) }];
  },
};
