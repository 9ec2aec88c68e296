// hubble_drop_total{ctx…,reason,protocol}: dropped flows by DropReason name.
import { CounterFamily } from '../../../common/metrics/family.js';
import { ContextLabels } from '../context.js';
import { dropReasonName, flowProtocol, Verdict } from '../flow-labels.js';
import { takeFlags, type HandlerFactory } from '../handler.js';

export const createDropHandler: HandlerFactory = (options, policy) => {
  const ctx = new ContextLabels(options);
  takeFlags('drop', options, []);
  const n = ctx.names.length;
  const f = new CounterFamily('hubble_drop_total', 'Number of drops', [...ctx.names, 'reason', 'protocol'], policy);
  const v = f.values;
  return {
    name: 'drop',
    families: [f],
    process(flow, now) {
      if (flow.verdict !== Verdict.DROPPED) return;
      ctx.fill(flow, v, 0);
      v[n] = dropReasonName(flow.drop_reason_desc);
      v[n + 1] = flowProtocol(flow);
      f.inc(now);
    },
  };
};
