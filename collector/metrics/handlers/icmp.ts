// hubble_icmp_total{family,type,ctx…}: ICMP flows by gopacket's TypeCode name.
import { CounterFamily } from '../../../common/metrics/family.js';
import { ContextLabels } from '../context.js';
import { takeFlags, type HandlerFactory } from '../handler.js';

const V4: Record<number, string> = {
  0: 'EchoReply',
  3: 'DestinationUnreachable',
  4: 'SourceQuench',
  5: 'Redirect',
  8: 'EchoRequest',
  9: 'RouterAdvertisement',
  10: 'RouterSolicitation',
  11: 'TimeExceeded',
  12: 'ParameterProblem',
  13: 'TimestampRequest',
  14: 'TimestampReply',
  15: 'InfoRequest',
  16: 'InfoReply',
  17: 'AddressMaskRequest',
  18: 'AddressMaskReply',
};
const V6: Record<number, string> = {
  1: 'DestinationUnreachable',
  2: 'PacketTooBig',
  3: 'TimeExceeded',
  4: 'ParameterProblem',
  128: 'EchoRequest',
  129: 'EchoReply',
  133: 'RouterSolicitation',
  134: 'RouterAdvertisement',
  135: 'NeighborSolicitation',
  136: 'NeighborAdvertisement',
  137: 'Redirect',
};
const cache = new Map<number, string>();

function typeCode(v6: boolean, type: number, code: number): string {
  const key = (v6 ? 0x10000 : 0) | (type << 8) | code;
  let s = cache.get(key);
  if (s === undefined) {
    const name = (v6 ? V6 : V4)[type];
    s = name === undefined ? `${type}(${code})` : code === 0 ? name : `${name}(${code})`;
    cache.set(key, s);
  }
  return s;
}

export const createIcmpHandler: HandlerFactory = (options, policy) => {
  const ctx = new ContextLabels(options);
  takeFlags('icmp', options, []);
  const f = new CounterFamily('hubble_icmp_total', 'ICMP messages by type', ['family', 'type', ...ctx.names], policy);
  const v = f.values;
  return {
    name: 'icmp',
    families: [f],
    process(flow, now) {
      const l4 = flow.l4;
      const icmp = l4?.ICMPv4 ?? l4?.ICMPv6;
      if (icmp === undefined) return;
      const v6 = l4!.ICMPv4 === undefined;
      v[0] = v6 ? 'IPv6' : 'IPv4';
      v[1] = typeCode(v6, icmp.type ?? 0, icmp.code ?? 0);
      ctx.fill(flow, v, 2);
      f.inc(now);
    },
  };
};
