import type { Endpoint, Flow, Workload } from '../proto/types.js';
import type { Compiled, FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import type { Params } from './params.js';

function compile(wf: readonly Workload[], get: (f: Flow) => Endpoint | undefined, prefix: string, p: Params): Compiled {
  const fs = wf.map((w) => ({ name: w.name ?? '', kind: w.kind ?? '' }));
  const sql = fs.map((w) => {
    const parts = ['1'];
    if (w.name !== '') parts.push(`n = ${p.str(w.name)}`);
    if (w.kind !== '') parts.push(`k = ${p.str(w.kind)}`);
    return `(${parts.join(' AND ')})`;
  });
  return {
    match: (f) =>
      (get(f)?.workloads ?? []).some((w) => fs.some((x) => (x.name === '' || x.name === (w.name ?? '')) && (x.kind === '' || x.kind === (w.kind ?? '')))),
    sql: `arrayExists((n, k) -> ${anyOf(sql)}, ${prefix}_workload_names, ${prefix}_workload_kinds)`,
  };
}

/** source_workload / destination_workload: name and kind each match when empty in the filter. */
export const workloadFilter: FilterKind = {
  name: 'workload',
  fields: ['source_workload', 'destination_workload'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_workload)) out.push(compile(ff.source_workload, (f) => f.source, 'src', p));
    if (isSet(ff.destination_workload)) out.push(compile(ff.destination_workload, (f) => f.destination, 'dst', p));
    return out;
  },
};
