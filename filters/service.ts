import type { Compiled, FilterKind } from './types.js';
import { isSet } from './types.js';
import { namespacedName } from './namespaced-name.js';

/** source_service / destination_service: same `[namespace/][name-prefix]` rules as pods. */
export const serviceFilter: FilterKind = {
  name: 'service',
  fields: ['source_service', 'destination_service'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_service)) {
      out.push(
        namespacedName(
          ff.source_service,
          (f) => [f.source_service?.namespace ?? '', f.source_service?.name ?? ''],
          'src_svc_ns',
          'src_svc_name',
          p,
          'invalid source service filter',
        ),
      );
    }
    if (isSet(ff.destination_service)) {
      out.push(
        namespacedName(
          ff.destination_service,
          (f) => [f.destination_service?.namespace ?? '', f.destination_service?.name ?? ''],
          'dst_svc_ns',
          'dst_svc_name',
          p,
          'invalid destination service filter',
        ),
      );
    }
    return out;
  },
};
