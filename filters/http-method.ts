import { requireL7EventType } from './http-compat.js';
import type { FilterKind } from './types.js';
import { isSet } from './types.js';
import { P, has } from '../schema/presence.js';

/** http_method: case-insensitive (strings.EqualFold; ASCII folding here and in SQL). */
export const httpMethodFilter: FilterKind = {
  name: 'http_method',
  fields: ['http_method'],
  build(ff, p) {
    if (!isSet(ff.http_method)) return [];
    requireL7EventType(ff, 'http method');
    const ms = ff.http_method.map((m) => asciiLower(m));
    return [
      {
        match: (f) => {
          const m = f.l7?.http?.method ?? '';
          return m !== '' && ms.includes(asciiLower(m));
        },
        sql: `(${has(P.HTTP)} AND http_method != '' AND ${p.inList('lower(http_method)', 'String', ms)})`,
      },
    ];
  },
};

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
