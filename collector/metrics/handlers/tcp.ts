// hubble_tcp_flags_total{flag,family,ctx…}: forwarded TCP flows, one increment per notable flag.
import { CounterFamily } from '../../../common/metrics/family.js';
import { ContextLabels } from '../context.js';
import { family, Verdict } from '../flow-labels.js';
import { takeFlags, type HandlerFactory } from '../handler.js';

export const createTcpHandler: HandlerFactory = (options, policy) => {
  const ctx = new ContextLabels(options);
  takeFlags('tcp', options, []);
  const f = new CounterFamily('hubble_tcp_flags_total', 'TCP flag occurrences', ['flag', 'family', ...ctx.names], policy);
  const v = f.values;
  return {
    name: 'tcp',
    families: [f],
    process(flow, now) {
      if (flow.verdict !== Verdict.FORWARDED) return;
      const flags = flow.l4?.TCP?.flags;
      if (flags === undefined) return;
      v[1] = family(flow);
      ctx.fill(flow, v, 2);
      if (flags.SYN) {
        v[0] = flags.ACK ? 'SYN-ACK' : 'SYN';
        f.inc(now);
      }
      if (flags.FIN) {
        v[0] = 'FIN';
        f.inc(now);
      }
      if (flags.RST) {
        v[0] = 'RST';
        f.inc(now);
      }
    },
  };
};
