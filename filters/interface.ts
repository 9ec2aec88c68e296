import type { FilterKind } from './types.js';
import { isSet, anyOf } from './types.js';
import { P, has } from '../schema/presence.js';

/** interface: index (if > 0) and name (if set) must both match; flows without one never match. */
export const interfaceFilter: FilterKind = {
  name: 'interface',
  fields: ['interface'],
  build(ff, p) {
    if (!isSet(ff.interface)) return [];
    const fs = ff.interface.map((i) => ({ index: i.index ?? 0, name: i.name ?? '' }));
    const sql = fs.map((i) => {
      const parts = ['1'];
      if (i.index > 0) parts.push(`iface_index = ${p.u32(i.index)}`);
      if (i.name !== '') parts.push(`iface_name = ${p.str(i.name)}`);
      return `(${parts.join(' AND ')})`;
    });
    return [
      {
        match: (f) => {
          const it = f.interface;
          if (!it) return false;
          return fs.some((i) => (i.index <= 0 || i.index === (it.index ?? 0)) && (i.name === '' || i.name === (it.name ?? '')));
        },
        sql: `(${has(P.INTERFACE)} AND ${anyOf(sql)})`,
      },
    ];
  },
};
