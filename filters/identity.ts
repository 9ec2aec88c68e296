import type { Endpoint, Flow } from '../proto/types.js';
import type { Compiled, FilterKind } from './types.js';
import { isSet } from './types.js';
import { P, has } from '../schema/presence.js';
import type { Params } from './params.js';

function compile(ids: readonly number[], get: (f: Flow) => Endpoint | undefined, col: string, bit: number, p: Params): Compiled {
  const vs = [...ids];
  return {
    match: (f) => {
      const ep = get(f);
      return ep !== undefined && vs.includes(ep.identity ?? 0);
    },
    sql: `(${has(bit)} AND ${p.inList(col, 'UInt32', vs)})`,
  };
}

/** source_identity / destination_identity: a missing endpoint never matches. */
export const identityFilter: FilterKind = {
  name: 'identity',
  fields: ['source_identity', 'destination_identity'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_identity)) out.push(compile(ff.source_identity, (f) => f.source, 'src_identity', P.SOURCE, p));
    if (isSet(ff.destination_identity)) out.push(compile(ff.destination_identity, (f) => f.destination, 'dst_identity', P.DESTINATION, p));
    return out;
  },
};
