import { FilterError } from './errors.js';
import { compileNodeNamePatterns } from './fqdn-pattern.js';
import type { FilterKind } from './types.js';
import { isSet } from './types.js';

/** Cilium's default cluster name, which Hubble prepends to node names without a cluster. */
export const DEFAULT_CLUSTER = 'default';

/** node_name: `node*`, `cluster/node`, `cluster/` patterns against `cluster/node`. */
export const nodeNameFilter: FilterKind = {
  name: 'node_name',
  fields: ['node_name'],
  build(ff, p) {
    if (!isSet(ff.node_name)) return [];
    let source: string;
    try {
      source = compileNodeNamePatterns(ff.node_name);
    } catch (e) {
      throw new FilterError(`invalid node name filter: ${(e as Error).message}`);
    }
    const re = new RegExp(source);
    return [
      {
        match: (f) => {
          const n = f.node_name ?? '';
          if (n === '') return false;
          return re.test(n.includes('/') ? n : `${DEFAULT_CLUSTER}/${n}`);
        },
        sql: `(node_name != '' AND match(if(position(node_name, '/') = 0, concat('${DEFAULT_CLUSTER}/', node_name), node_name), ${p.str(source)}))`,
      },
    ];
  },
};
