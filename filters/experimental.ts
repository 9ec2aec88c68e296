import { FilterError } from './errors.js';
import type { FilterKind } from './types.js';

/** experimental.cel_expression: rejected rather than ignored, so no filter silently widens. */
export const experimentalFilter: FilterKind = {
  name: 'experimental',
  fields: ['experimental'],
  build(ff) {
    if ((ff.experimental?.cel_expression ?? []).length > 0) throw new FilterError('cel_expression filters are not supported');
    return [];
  },
};
