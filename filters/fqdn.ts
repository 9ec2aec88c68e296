import type { Flow } from '../proto/types.js';
import { FilterError } from './errors.js';
import { compileFQDNPatterns } from './fqdn-pattern.js';
import type { Compiled, FilterKind } from './types.js';
import { isSet } from './types.js';
import type { Params } from './params.js';

function compile(patterns: readonly string[], get: (f: Flow) => string[] | undefined, col: string, p: Params): Compiled {
  let source: string;
  try {
    source = compileFQDNPatterns(patterns);
  } catch (e) {
    throw new FilterError(`invalid FQDN in filter: ${(e as Error).message}`);
  }
  const re = new RegExp(source);
  return {
    match: (f) => (get(f) ?? []).some((n) => re.test(n)),
    sql: `arrayExists(n -> match(n, ${p.str(source)}), ${col})`,
  };
}

/** source_fqdn / destination_fqdn: glob patterns (`*.example.com`) over source/destination_names. */
export const fqdnFilter: FilterKind = {
  name: 'fqdn',
  fields: ['source_fqdn', 'destination_fqdn'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_fqdn)) out.push(compile(ff.source_fqdn, (f) => f.source_names, 'src_names', p));
    if (isSet(ff.destination_fqdn)) out.push(compile(ff.destination_fqdn, (f) => f.destination_names, 'dst_names', p));
    return out;
  },
};
