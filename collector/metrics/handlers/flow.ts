// hubble_flows_processed_total{protocol,type,subtype,verdict,ctx…}: every flow.
import { CounterFamily } from '../../../common/metrics/family.js';
import { ContextLabels } from '../context.js';
import { flowProtocol, flowTypeLabels, verdictName } from '../flow-labels.js';
import { takeFlags, type HandlerFactory } from '../handler.js';

export const createFlowHandler: HandlerFactory = (options, policy) => {
  const ctx = new ContextLabels(options);
  takeFlags('flow', options, []);
  const f = new CounterFamily(
    'hubble_flows_processed_total',
    'Total number of flows processed',
    ['protocol', 'type', 'subtype', 'verdict', ...ctx.names],
    policy,
  );
  const v = f.values;
  return {
    name: 'flow',
    families: [f],
    process(flow, now) {
      v[0] = flowProtocol(flow);
      flowTypeLabels(flow, v, 1);
      v[3] = verdictName(flow.verdict);
      ctx.fill(flow, v, 4);
      f.inc(now);
    },
  };
};
