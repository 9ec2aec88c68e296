// Traffic direction exactly as Hubble's threefour parser decides it (decodeTrafficDirection).
// The one input the datapath record does not carry is the *resolved source endpoint ID*: the ID
// of the local endpoint that owns the packet's source IP (0 when the source is not a local
// endpoint). The decoder asks a `localEndpointId(ip)` resolver for it (the enricher provides one);
// without a resolver the source endpoint counts as unknown (0).
import { TrafficDirection } from '../../proto/types.js';

export const KIND_DROP = 1,
  KIND_TRACE = 4,
  KIND_POLICY = 5;

/**
 * Rules (Hubble):
 * - drop with emitter ≠ 0: EGRESS if emitter == source endpoint ID, else INGRESS;
 * - trace with emitter ≠ 0 and a known trace reason (≠ 5 "unknown"): EGRESS if
 *   (emitter == source endpoint ID) XOR is-reply, or if the packet was SNATed (OrigIP set);
 *   else INGRESS;
 * - policy verdict: from its direction flag (1 ingress, else egress);
 * - anything else: TRAFFIC_DIRECTION_UNKNOWN.
 */
export function decideTrafficDirection(
  kind: number,
  emitter: number,
  srcEndpointId: number,
  traceReasonKnown: boolean,
  traceIsReply: boolean,
  snat: boolean,
  policyIngress: boolean,
): number {
  if (kind === KIND_DROP && emitter !== 0) {
    return emitter === (srcEndpointId & 0xffff) ? TrafficDirection.EGRESS : TrafficDirection.INGRESS;
  }
  if (kind === KIND_TRACE && emitter !== 0 && traceReasonKnown) {
    const isSourceEP = emitter === (srcEndpointId & 0xffff);
    if (isSourceEP !== traceIsReply || snat) return TrafficDirection.EGRESS;
    return TrafficDirection.INGRESS;
  }
  if (kind === KIND_POLICY) return policyIngress ? TrafficDirection.INGRESS : TrafficDirection.EGRESS;
  return TrafficDirection.TRAFFIC_DIRECTION_UNKNOWN;
}
