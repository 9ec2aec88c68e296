// hubble_flows_to_world_total{protocol,verdict,[port],ctx…}: flows leaving the cluster
// (destination identity reserved:world). Options: port, any-drop, syn-only (Hubble's).
import { CounterFamily } from '../../../common/metrics/family.js';
import type { Flow } from '../../../proto/types.js';
import { ContextLabels } from '../context.js';
import { dropReasonName, isReply, l4Protocol, PORT_STRINGS, verdictName, Verdict } from '../flow-labels.js';
import { takeFlags, type HandlerFactory } from '../handler.js';

const WORLD_IDENTITIES = new Set([2, 9, 10]);

function toWorld(flow: Flow): boolean {
  const d = flow.destination;
  if (d === undefined) return false;
  if (d.identity !== undefined && WORLD_IDENTITIES.has(d.identity)) return true;
  const labels = d.labels;
  if (labels) for (const l of labels) if (l === 'reserved:world' || l === 'reserved:world-ipv4' || l === 'reserved:world-ipv6') return true;
  return false;
}

export const createFlowsToWorldHandler: HandlerFactory = (options, policy) => {
  const ctx = new ContextLabels(options);
  const flags = takeFlags('flows-to-world', options, ['port', 'any-drop', 'syn-only']);
  const withPort = flags.has('port');
  const at = withPort ? 3 : 2;
  const f = new CounterFamily(
    'hubble_flows_to_world_total',
    'Total number of flows to reserved:world',
    ['protocol', 'verdict', ...(withPort ? ['port'] : []), ...ctx.names],
    policy,
  );
  const v = f.values;
  return {
    name: 'flows-to-world',
    families: [f],
    process(flow, now) {
      const l4 = flow.l4;
      if (l4 === undefined || !toWorld(flow)) return;
      if (flow.verdict === Verdict.DROPPED) {
        if (!flags.has('any-drop') && dropReasonName(flow.drop_reason_desc) !== 'POLICY_DENIED') return;
      } else if (isReply(flow)) return;
      if (flags.has('syn-only') && !(l4.TCP?.flags?.SYN && !l4.TCP.flags.ACK)) return;
      v[0] = l4Protocol(flow);
      v[1] = verdictName(flow.verdict);
      if (withPort) {
        const p = l4.TCP?.destination_port ?? l4.UDP?.destination_port ?? l4.SCTP?.destination_port ?? 0;
        v[2] = PORT_STRINGS[p] ?? String(p);
      }
      ctx.fill(flow, v, at);
      f.inc(now);
    },
  };
};
