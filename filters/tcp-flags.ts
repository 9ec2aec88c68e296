import type { TCPFlags } from '../proto/types.js';
import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import { P, has } from './presence.js';
import { TCP_FLAG_BITS } from '../proto/tcp-flags.js';

/** The `tcp_flags` UInt16 column: the header's flag bits. */
export function tcpFlagsMask(f: TCPFlags | undefined): number {
  let m = 0;
  if (f) TCP_FLAG_BITS.forEach((k, i) => { if (f[k]) m |= 1 << i; });
  return m;
}

/** tcp_flags: a flow matches a TCPFlags filter when every flag set in it is set on the flow
 * (extra flow flags are fine); flows without TCP flags never match. */
export const tcpFlagsFilter: FilterKind = {
  name: 'tcp_flags',
  fields: ['tcp_flags'],
  build(ff, p) {
    if (!isSet(ff.tcp_flags)) return [];
    const masks = ff.tcp_flags.map(tcpFlagsMask);
    return [{
      match: (f) => {
        const fl = f.l4?.TCP?.flags;
        if (!fl) return false;
        const m = tcpFlagsMask(fl);
        return masks.some((x) => (m & x) === x);
      },
      sql: `(${has(P.TCP_FLAGS)} AND ${anyOf(masks.map((x) => `bitAnd(tcp_flags, ${p.u32(x)}) = ${p.u32(x)}`))})`,
    }];
  },
};
