// Which L4 header's ports a flow's ports are: the filters and the src_port/dst_port columns
// agree by both reading them here.
import type { Flow } from '../proto/types.js';

/** The L4 port Hubble reads: TCP, else UDP, else SCTP (storage keeps the same one in
 * src_port/dst_port). Undefined when none of them is present. */
export function l4Port(f: Flow, which: 'source_port' | 'destination_port'): number | undefined {
  const l4 = f.l4;
  const x = l4?.TCP ?? l4?.UDP ?? l4?.SCTP;
  return x === undefined ? undefined : (x[which] ?? 0);
}
