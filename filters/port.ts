import type { Flow } from '../proto/types.js';
import { FilterError } from './errors.js';
import type { Compiled, FilterKind } from './types.js';
import { isSet } from './types.js';
import { P } from './presence.js';
import type { Params } from './params.js';

const PORTED = P.TCP | P.UDP | P.SCTP;

/** The L4 port Hubble reads: TCP, else UDP, else SCTP (storage keeps the same one in
 * src_port/dst_port). Undefined when none of them is present. */
export function l4Port(f: Flow, which: 'source_port' | 'destination_port'): number | undefined {
  const l4 = f.l4;
  const x = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  return x === undefined ? undefined : x[which] ?? 0;
}

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
    match: (f) => { const v = l4Port(f, which); return v !== undefined && ports.includes(v & 0xffff); },
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
