import { compileGoRegexp } from './re2.js';
import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import { P, has } from '../schema/presence.js';

/** dns_query: Go regexps (unanchored) against l7.dns.query; flows without DNS never match. */
export const dnsQueryFilter: FilterKind = {
  name: 'dns_query',
  fields: ['dns_query'],
  build(ff, p) {
    if (!isSet(ff.dns_query)) return [];
    const res = ff.dns_query.map((q) => compileGoRegexp(q, 'invalid DNS query filter'));
    return [
      {
        match: (f) => {
          const d = f.l7?.dns;
          return d !== undefined && res.some((r) => r.js.test(d.query ?? ''));
        },
        sql: `(${has(P.DNS)} AND ${anyOf(res.map((r) => `match(dns_query, ${p.str(r.source)})`))})`,
      },
    ];
  },
};
