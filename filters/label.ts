import type { Flow } from '../proto/types.js';
import { FilterError } from './errors.js';
import { parseSelector, selectorMatches, selectorSQL, type Selector } from './label-selector.js';
import type { Compiled, FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import type { Params } from './params.js';

function compile(selectors: readonly string[], get: (f: Flow) => string[] | undefined, col: string, p: Params, what: string): Compiled {
  const sels: Selector[] = selectors.map((s) => {
    try {
      return parseSelector(s);
    } catch (e) {
      throw new FilterError(`invalid ${what} label filter: ${(e as Error).message}`);
    }
  });
  return {
    match: (f) => sels.some((s) => selectorMatches(s, get(f))),
    sql: anyOf(sels.map((s) => selectorSQL(s, col, p))),
  };
}

/** source_label / destination_label / node_labels: label selectors, any selector may match. */
export const labelFilter: FilterKind = {
  name: 'label',
  fields: ['source_label', 'destination_label', 'node_labels'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_label)) out.push(compile(ff.source_label, (f) => f.source?.labels, 'src_labels', p, 'source'));
    if (isSet(ff.destination_label)) out.push(compile(ff.destination_label, (f) => f.destination?.labels, 'dst_labels', p, 'destination'));
    if (isSet(ff.node_labels)) out.push(compile(ff.node_labels, (f) => f.node_labels, 'node_labels', p, 'node'));
    return out;
  },
};
