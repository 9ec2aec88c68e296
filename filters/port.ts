import { FilterError } from './errors.js';
import type { Compiled, FilterKind } from './types.js';
import { isSet } from './types.js';
import { P } from '../schema/presence.js';
import type { Params } from './params.js';
import { l4Port } from '../schema/l4-port.js';

const PORTED = P.TCP | P.UDP | P.SCTP;

/** strconv.ParseUint(p, 10, 16). */
function parsePort(s: string, what: string): number {
  if (!/^[0-9]+$/.test(s) || Number(s) > 65535) throw new FilterError(`invalid ${what} port filter: invalid port ${JSON.stringify(s)}`);
  return Number(s);
}

function compile(values: readonly string[], which: 'source_port' | 'destination_port', col: string, p: Params): Compiled {
  const what = which === 'source_port' ? 'source' : 'destination';
  const ports = values.map((v) => parsePort(v, what));
  return {
    // Hubble compares uint16(port): the low 16 bits of the proto's uint32.
    match: (f) => {
      const v = l4Port(f, which);
      return v !== undefined && ports.includes(v & 0xffff);
    },
    sql: `(bitAnd(presence, ${PORTED}) != 0 AND ${p.inList(`bitAnd(${col}, 65535)`, 'UInt32', ports)})`,
  };
}

export const portFilter: FilterKind = {
  name: 'port',
  fields: ['source_port', 'destination_port'],
  build(ff, p) {
    const out: Compiled[] = [];
    if (isSet(ff.source_port)) out.push(compile(ff.source_port, 'source_port', 'src_port', p));
    if (isSet(ff.destination_port)) out.push(compile(ff.destination_port, 'destination_port', 'dst_port', p));
    return out;
  },
};
