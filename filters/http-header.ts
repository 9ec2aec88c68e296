import { requireL7EventType } from './http-compat.js';
import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';

/** http_header: some header matches key (if set) and value (if set) of some filter entry. */
export const httpHeaderFilter: FilterKind = {
  name: 'http_header',
  fields: ['http_header'],
  build(ff, p) {
    if (!isSet(ff.http_header)) return [];
    requireL7EventType(ff, 'http headers');
    const hs = ff.http_header.map((h) => ({ key: h.key ?? '', value: h.value ?? '' }));
    const sql = hs.map((h) => {
      const parts = ['1'];
      if (h.key !== '') parts.push(`k = ${p.str(h.key)}`);
      if (h.value !== '') parts.push(`v = ${p.str(h.value)}`);
      return `(${parts.join(' AND ')})`;
    });
    return [
      {
        match: (f) =>
          (f.l7?.http?.headers ?? []).some((w) => hs.some((h) => (h.key === '' || h.key === (w.key ?? '')) && (h.value === '' || h.value === (w.value ?? '')))),
        sql: `arrayExists((k, v) -> ${anyOf(sql)}, http_header_keys, http_header_values)`,
      },
    ];
  },
};
