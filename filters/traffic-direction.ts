import type { FilterKind } from './types.js';
import { isSet } from './types.js';

export const trafficDirectionFilter: FilterKind = {
  name: 'traffic_direction',
  fields: ['traffic_direction'],
  build(ff, p) {
    if (!isSet(ff.traffic_direction)) return [];
    const vs = [...ff.traffic_direction];
    return [{ match: (f) => vs.includes(f.traffic_direction ?? 0), sql: p.inList('traffic_direction', 'Int32', vs) }];
  },
};
