// hubble_policy_verdicts_total{direction,match,action,ctx…}: policy verdict events (not the
// host's own traffic, like Hubble).
import { CounterFamily } from '../../../common/metrics/family.js';
import { ContextLabels } from '../context.js';
import { takeFlags, type HandlerFactory } from '../handler.js';

const DIRECTIONS = ['traffic_direction_unknown', 'ingress', 'egress'];
const MATCH = ['none', 'l3-only', 'l3-l4', 'l4-only', 'all', 'l3-proto', 'proto-only'];
const ACTIONS = ['verdict_unknown', 'forwarded', 'dropped', 'error', 'audit', 'redirected', 'traced', 'translated'];

export const createPolicyHandler: HandlerFactory = (options, policy) => {
  const ctx = new ContextLabels(options);
  takeFlags('policy', options, []);
  const f = new CounterFamily('hubble_policy_verdicts_total', 'Number of policy verdict events', ['direction', 'match', 'action', ...ctx.names], policy);
  const v = f.values;
  return {
    name: 'policy',
    families: [f],
    process(flow, now) {
      if (flow.event_type?.type !== 5 || flow.source?.identity === 1) return;
      v[0] = DIRECTIONS[flow.traffic_direction ?? 0] ?? DIRECTIONS[0];
      v[1] = MATCH[flow.policy_match_type ?? 0] ?? String(flow.policy_match_type);
      v[2] = ACTIONS[flow.verdict ?? 0] ?? String(flow.verdict);
      ctx.fill(flow, v, 3);
      f.inc(now);
    },
  };
};
