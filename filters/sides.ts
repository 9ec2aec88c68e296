// A "from A to B" FlowFilter taken apart by side, for questions about a pair of endpoints
// (`flowscope why`): the same pair seen the other way round, only A, only B, or A as the
// receiver. Each source_* field has its destination_* twin; `protocol` belongs to both sides.
import type { FlowFilter } from '../proto/types.js';
import { FilterError } from './errors.js';

/** source_* field → its destination_* twin. */
const TWINS = [
  ['source_ip', 'destination_ip'],
  ['source_pod', 'destination_pod'],
  ['source_fqdn', 'destination_fqdn'],
  ['source_label', 'destination_label'],
  ['source_service', 'destination_service'],
  ['source_workload', 'destination_workload'],
  ['source_cluster_name', 'destination_cluster_name'],
  ['source_port', 'destination_port'],
  ['source_identity', 'destination_identity'],
] as const satisfies readonly (readonly [keyof FlowFilter, keyof FlowFilter])[];

/** Fields a pair filter may set: the sided ones and the protocol. */
export const PAIR_FIELDS: ReadonlySet<keyof FlowFilter> = new Set<keyof FlowFilter>([...TWINS.flat(), 'protocol']);

type Side = 'source' | 'destination';

function set(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0;
}

/**
 * Checks that `ff` names both ends and nothing but them; throws FilterError naming what is wrong.
 * A source port is refused: it is the client's ephemeral port, never the question.
 */
export function checkPairFilter(ff: FlowFilter): void {
  for (const [k, v] of Object.entries(ff)) {
    if (!set(v)) continue;
    if (!PAIR_FIELDS.has(k as keyof FlowFilter))
      throw new FilterError(`${k} cannot be used here: only the two endpoints, the destination port and the protocol`);
  }
  if (set(ff.source_port)) throw new FilterError('source_port cannot be used here: give the destination port');
  if (!TWINS.some(([s]) => set(ff[s])))
    throw new FilterError('the source endpoint is missing (pod, workload, namespace, label, IP, service, FQDN or identity)');
  if (!TWINS.some(([, d]) => d !== 'destination_port' && set(ff[d])))
    throw new FilterError('the destination endpoint is missing (pod, workload, namespace, label, IP, service, FQDN or identity)');
}

function copy(ff: FlowFilter, out: FlowFilter, key: keyof FlowFilter, to: keyof FlowFilter): void {
  const v = ff[key];
  if (set(v)) (out as Record<string, unknown>)[to] = structuredClone(v);
}

/** The same pair the other way round: B → A (ports and protocol follow). */
export function swapSides(ff: FlowFilter): FlowFilter {
  const out: FlowFilter = {};
  for (const [s, d] of TWINS) {
    copy(ff, out, s, d);
    copy(ff, out, d, s);
  }
  copy(ff, out, 'protocol', 'protocol');
  return out;
}

/** One end of the pair alone, as the side it is on (`source`) or moved to the other (`as`). */
export function endpointOnly(ff: FlowFilter, side: Side, as: Side = side): FlowFilter {
  const out: FlowFilter = {};
  for (const [s, d] of TWINS) {
    if (s === 'source_port') continue;
    const from = side === 'source' ? s : d;
    copy(ff, out, from, as === 'source' ? s : d);
  }
  return out;
}
