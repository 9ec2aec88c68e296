// hubble_dns_queries_total / hubble_dns_responses_total {ctx…,rcode,qtypes,ips_returned,[query]}
// and hubble_dns_response_types_total {ctx…,type,qtypes,[query]} from flows carrying l7.dns.
// Options: query (add the query name label), ignoreAAAA (skip AAAA-only questions).
import { CounterFamily } from '../../../common/metrics/family.js';
import { ContextLabels } from '../context.js';
import { Verdict } from '../flow-labels.js';
import { takeFlags, type HandlerFactory } from '../handler.js';

const RCODES: Record<number, string> = {
  0: 'No Error',
  1: 'Format Error',
  2: 'Server Failure',
  3: 'Non-Existent Domain',
  4: 'Not Implemented',
  5: 'Query Refused',
  6: 'Name Exists when it should not',
  7: 'RR Set Exists when it should not',
  8: 'RR Set that should exist does not',
  9: 'Not Authorized',
  10: 'Name not contained in zone',
  11: 'DSO-TYPE Not Implemented',
  16: 'Bad OPT Version',
  17: 'Key not recognized',
  18: 'Signature out of time window',
  19: 'Bad TKEY Mode',
  20: 'Duplicate key name',
  21: 'Algorithm not supported',
  22: 'Bad Truncation',
  23: 'Bad/missing Server Cookie',
};
const rcodeName = (n: number): string => RCODES[n] ?? String(n);
const SMALL = Array.from({ length: 64 }, (_, i) => String(i));

export const createDnsHandler: HandlerFactory = (options, policy) => {
  const ctx = new ContextLabels(options);
  const flags = takeFlags('dns', options, ['query', 'ignoreAAAA']);
  const withQuery = flags.has('query');
  const n = ctx.names.length;
  const q = withQuery ? ['query'] : [];
  const queries = new CounterFamily(
    'hubble_dns_queries_total',
    'Number of DNS queries observed',
    [...ctx.names, 'rcode', 'qtypes', 'ips_returned', ...q],
    policy,
  );
  const responses = new CounterFamily(
    'hubble_dns_responses_total',
    'Number of DNS responses observed',
    [...ctx.names, 'rcode', 'qtypes', 'ips_returned', ...q],
    policy,
  );
  const types = new CounterFamily('hubble_dns_response_types_total', 'Number of DNS response types', [...ctx.names, 'type', 'qtypes', ...q], policy);
  return {
    name: 'dns',
    families: [queries, responses, types],
    process(flow, now) {
      const dns = flow.l7?.dns;
      if (dns === undefined) return;
      const qtypes = dns.qtypes === undefined || dns.qtypes.length === 0 ? '' : dns.qtypes.length === 1 ? dns.qtypes[0] : dns.qtypes.join(',');
      if (flags.has('ignoreAAAA') && qtypes === 'AAAA') return;
      const ips = dns.ips?.length ?? 0;
      let fam = queries;
      let rcode = '';
      if (flow.verdict === Verdict.DROPPED) rcode = 'Policy denied';
      else if (flow.l7?.type === 2 /* RESPONSE */) {
        fam = responses;
        rcode = rcodeName(dns.rcode ?? 0);
      }
      const v = fam.values;
      ctx.fill(flow, v, 0);
      v[n] = rcode;
      v[n + 1] = qtypes;
      v[n + 2] = SMALL[ips] ?? String(ips);
      if (withQuery) v[n + 3] = dns.query ?? '';
      fam.inc(now);
      if (fam === responses && dns.rrtypes) {
        const t = types.values;
        ctx.fill(flow, t, 0);
        t[n + 1] = qtypes;
        if (withQuery) t[n + 2] = dns.query ?? '';
        for (const rr of dns.rrtypes) {
          t[n] = rr;
          types.inc(now);
        }
      }
    },
  };
};
