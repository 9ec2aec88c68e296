import type { Flow } from '../proto/types.js';
import { FilterError } from './errors.js';
import type { FilterKind } from './types.js';
import { isSet } from './types.js';
import { P } from '../schema/presence.js';

// Each protocol name is a presence test of one or more sub-messages.
const PROTOCOLS: Record<string, { bits: number; test: (f: Flow) => boolean }> = {
  icmp: { bits: P.ICMPV4 | P.ICMPV6, test: (f) => f.l4?.ICMPv4 !== undefined || f.l4?.ICMPv6 !== undefined },
  icmpv4: { bits: P.ICMPV4, test: (f) => f.l4?.ICMPv4 !== undefined },
  icmpv6: { bits: P.ICMPV6, test: (f) => f.l4?.ICMPv6 !== undefined },
  tcp: { bits: P.TCP, test: (f) => f.l4?.TCP !== undefined },
  udp: { bits: P.UDP, test: (f) => f.l4?.UDP !== undefined },
  sctp: { bits: P.SCTP, test: (f) => f.l4?.SCTP !== undefined },
  dns: { bits: P.DNS, test: (f) => f.l7?.dns !== undefined },
  http: { bits: P.HTTP, test: (f) => f.l7?.http !== undefined },
  kafka: { bits: P.KAFKA, test: (f) => f.l7?.kafka !== undefined },
};

/** protocol: L4 (tcp, udp, sctp, icmp, icmpv4, icmpv6) or L7 (dns, http, kafka), any case. */
export const protocolFilter: FilterKind = {
  name: 'protocol',
  fields: ['protocol'],
  build(ff, p) {
    if (!isSet(ff.protocol)) return [];
    const ps = ff.protocol.map((name) => {
      const x = PROTOCOLS[name.toLowerCase()];
      if (!x) throw new FilterError(`invalid protocol filter: unknown protocol: ${JSON.stringify(name)}`);
      return x;
    });
    const bits = ps.reduce((m, x) => m | x.bits, 0);
    return [{ match: (f) => ps.some((x) => x.test(f)), sql: `bitAnd(presence, ${p.u32(bits)}) != 0` }];
  },
};
