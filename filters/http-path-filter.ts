import { requireL7EventType } from './http-compat.js';
import { requestURIPath } from '../schema/http-path.js';
import { compileGoRegexp } from './re2.js';
import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import { P, has } from '../schema/presence.js';

/** http_path: Go regexps against the decoded path of the request URI; URLs that do not parse
 * never match. Storage keeps that path in http_path (http_path_ok = 1 when it parsed). */
export const httpPathFilter: FilterKind = {
  name: 'http_path',
  fields: ['http_path'],
  build(ff, p) {
    if (!isSet(ff.http_path)) return [];
    requireL7EventType(ff, 'http path');
    const res = ff.http_path.map((r) => compileGoRegexp(r, 'invalid http path filter'));
    return [
      {
        match: (f) => {
          const url = f.l7?.http?.url ?? '';
          if (url === '') return false;
          const path = requestURIPath(url);
          return path !== undefined && res.some((r) => r.js.test(path));
        },
        sql: `(${has(P.HTTP)} AND http_path_ok = 1 AND ${anyOf(res.map((r) => `match(http_path, ${p.str(r.source)})`))})`,
      },
    ];
  },
};
