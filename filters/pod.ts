import type { Compiled, FilterKind } from './types.js';
import { isSet } from './types.js';
import { namespacedName } from './namespaced-name.js';

/** source_pod / destination_pod: `namespace/pod-prefix`, `pod-prefix` (default ns), `namespace/`. */
export const podFilter: FilterKind = {
  name: 'pod',
  fields: ['source_pod', 'destination_pod'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_pod)) {
      out.push(
        namespacedName(ff.source_pod, (f) => [f.source?.namespace ?? '', f.source?.pod_name ?? ''], 'src_namespace', 'src_pod', p, 'invalid source pod filter'),
      );
    }
    if (isSet(ff.destination_pod)) {
      out.push(
        namespacedName(
          ff.destination_pod,
          (f) => [f.destination?.namespace ?? '', f.destination?.pod_name ?? ''],
          'dst_namespace',
          'dst_pod',
          p,
          'invalid destination pod filter',
        ),
      );
    }
    return out;
  },
};
