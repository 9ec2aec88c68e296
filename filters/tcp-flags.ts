import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import { P, has } from '../schema/presence.js';
import { tcpFlagsMask } from '../proto/tcp-flags.js';

export { tcpFlagsMask };

/** tcp_flags: a flow matches a TCPFlags filter when every flag set in it is set on the flow
 * (extra flow flags are fine); flows without TCP flags never match. */
export const tcpFlagsFilter: FilterKind = {
  name: 'tcp_flags',
  fields: ['tcp_flags'],
  build(ff, p) {
    if (!isSet(ff.tcp_flags)) return [];
    const masks = ff.tcp_flags.map(tcpFlagsMask);
    return [
      {
        match: (f) => {
          const fl = f.l4?.TCP?.flags;
          if (!fl) return false;
          const m = tcpFlagsMask(fl);
          return masks.some((x) => (m & x) === x);
        },
        sql: `(${has(P.TCP_FLAGS)} AND ${anyOf(masks.map((x) => `bitAnd(tcp_flags, ${p.u32(x)}) = ${p.u32(x)}`))})`,
      },
    ];
  },
};
