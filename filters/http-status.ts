import { FilterError } from './errors.js';
import { requireL7EventType } from './http-compat.js';
import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import { P, has } from '../schema/presence.js';

/** http_status_code: `200` exact or `2+`/`40+` prefixes of the zero-padded code; code 0 never matches. */
export const httpStatusFilter: FilterKind = {
  name: 'http_status_code',
  fields: ['http_status_code'],
  build(ff, p) {
    if (!isSet(ff.http_status_code)) return [];
    requireL7EventType(ff, 'http status code');
    const full: string[] = [],
      prefix: string[] = [];
    for (const s of ff.http_status_code) {
      if (/^[1-5][0-9]{2}$/.test(s)) full.push(s);
      else if (/^[1-5][0-9]?\+$/.test(s)) prefix.push(s.slice(0, -1));
      else throw new FilterError(`invalid http status code filter: invalid status code prefix: ${JSON.stringify(s)}`);
    }
    const code = `leftPad(toString(http_code), 3, '0')`;
    const sql = [...full.map((s) => `${code} = ${p.str(s)}`), ...prefix.map((s) => `startsWith(${code}, ${p.str(s)})`)];
    return [
      {
        match: (f) => {
          const h = f.l7?.http;
          if (!h || !h.code) return false;
          const c = String(h.code).padStart(3, '0');
          return full.includes(c) || prefix.some((x) => c.startsWith(x));
        },
        sql: `(${has(P.HTTP)} AND http_code != 0 AND ${anyOf(sql)})`,
      },
    ];
  },
};
