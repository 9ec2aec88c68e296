import { requireL7EventType } from './http-compat.js';
import { compileGoRegexp } from './re2.js';
import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import { P, has } from '../schema/presence.js';

/** http_url: Go regexps against the full URL; empty URLs never match. */
export const httpUrlFilter: FilterKind = {
  name: 'http_url',
  fields: ['http_url'],
  build(ff, p) {
    if (!isSet(ff.http_url)) return [];
    requireL7EventType(ff, 'http url');
    const res = ff.http_url.map((r) => compileGoRegexp(r, 'invalid http url filter'));
    return [
      {
        match: (f) => {
          const u = f.l7?.http?.url ?? '';
          return u !== '' && res.some((r) => r.js.test(u));
        },
        sql: `(${has(P.HTTP)} AND http_url != '' AND ${anyOf(res.map((r) => `match(http_url, ${p.str(r.source)})`))})`,
      },
    ];
  },
};
