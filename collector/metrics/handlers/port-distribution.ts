// hubble_port_distribution_total{protocol,port,ctx…}: destination ports of forwarded requests.
import { CounterFamily } from '../../../common/metrics/family.js';
import { ContextLabels } from '../context.js';
import { isReply, l4Protocol, PORT_STRINGS, Verdict } from '../flow-labels.js';
import { takeFlags, type HandlerFactory } from '../handler.js';

export const createPortDistributionHandler: HandlerFactory = (options, policy) => {
  const ctx = new ContextLabels(options);
  takeFlags('port-distribution', options, []);
  const f = new CounterFamily(
    'hubble_port_distribution_total',
    'Numbers of packets distributed by destination port',
    ['protocol', 'port', ...ctx.names],
    policy,
  );
  const v = f.values;
  return {
    name: 'port-distribution',
    families: [f],
    process(flow, now) {
      if (flow.verdict !== Verdict.FORWARDED && flow.verdict !== Verdict.REDIRECTED) return;
      const l4 = flow.l4;
      if (l4 === undefined || isReply(flow)) return;
      const port = l4.TCP?.destination_port ?? l4.UDP?.destination_port ?? l4.SCTP?.destination_port ?? 0;
      v[0] = l4Protocol(flow);
      v[1] = PORT_STRINGS[port] ?? String(port);
      ctx.fill(flow, v, 2);
      f.inc(now);
    },
  };
};
