import type { Flow } from '../proto/types.js';
import { FilterError } from './errors.js';
import type { Compiled, FilterKind } from './types.js';
import { isSet } from './types.js';
import type { Params } from './params.js';

function compile(names: readonly string[], get: (f: Flow) => string, col: string, p: Params): Compiled {
  if (names.includes('')) throw new FilterError('invalid filter, name must not be empty');
  const ns = [...names];
  return { match: (f) => ns.includes(get(f)), sql: p.inList(col, 'String', ns) };
}

export const clusterNameFilter: FilterKind = {
  name: 'cluster_name',
  fields: ['source_cluster_name', 'destination_cluster_name'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_cluster_name)) out.push(compile(ff.source_cluster_name, (f) => f.source?.cluster_name ?? '', 'src_cluster', p));
    if (isSet(ff.destination_cluster_name)) out.push(compile(ff.destination_cluster_name, (f) => f.destination?.cluster_name ?? '', 'dst_cluster', p));
    return out;
  },
};
