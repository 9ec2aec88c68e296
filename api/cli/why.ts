// `flowscope why`: "why can't A reach B?" answered by the relay's Why method from stored flows
// and the rollup. Exit 0 when B is reachable, 1 when blocked, partly failing or never tried,
// 2 for a bad question.
import { Command, Option } from 'commander';
import { askRelay } from './insights.js';
import { clientConnectionOptions } from './tls-options.js';
import type { FilterFlag } from '../query/filter-flags.js';
import { WHY_FILTER_FLAGS, whyRequest } from '../query/why-selection.js';
import { UsageError } from '../query/usage-error.js';
import { formatWhyReport, WHY_OUTPUT_FORMATS, type WhyOutputFormat } from '../printer/why.js';
import { whyExitCode } from '../../relay/why-report.js';

const HELP: Record<(typeof WHY_FILTER_FLAGS)[number], [string, string]> = {
  'from-pod': ['<[ns/]pod>', 'Source pod (a name prefix; with the namespace, or --from-namespace)'],
  'from-workload': ['<[kind/]name>', 'Source workload'],
  'from-namespace': ['<ns>', 'Source namespace'],
  'from-label': ['<selector>', 'Source label selector'],
  'from-ip': ['<ip|cidr>', 'Source address'],
  'from-service': ['<[ns/]svc>', 'Source service'],
  'from-fqdn': ['<name>', 'Source FQDN'],
  'from-identity': ['<id>', 'Source security identity'],
  'from-cluster': ['<name>', 'Source cluster'],
  'to-pod': ['<[ns/]pod>', 'Destination pod'],
  'to-workload': ['<[kind/]name>', 'Destination workload'],
  'to-namespace': ['<ns>', 'Destination namespace'],
  'to-label': ['<selector>', 'Destination label selector'],
  'to-ip': ['<ip|cidr>', 'Destination address'],
  'to-service': ['<[ns/]svc>', 'Destination service'],
  'to-fqdn': ['<name>', 'Destination FQDN (also the name looked up in DNS)'],
  'to-identity': ['<id>', 'Destination security identity'],
  'to-cluster': ['<name>', 'Destination cluster'],
  'to-port': ['<port>', 'Destination port'],
  protocol: ['<proto>', 'Protocol (tcp, udp, icmp, …)'],
};

export function whyCommand(serverOption: Option): Command {
  // Filter flags in command-line order, as `observe` keeps them.
  const filters: FilterFlag[] = [];
  const cmd = new Command('why')
    .description(
      'Explain why a source cannot reach a destination, from stored flows: drops, policy verdicts, DNS, TCP/ICMP signs, nodes; exit 0 reachable, 1 not',
    )
    .addOption(serverOption);
  for (const o of clientConnectionOptions()) cmd.addOption(o);
  for (const flag of WHY_FILTER_FLAGS) {
    const [arg, help] = HELP[flag];
    cmd.addOption(
      new Option(`--${flag} ${arg}`, help).argParser((v: string) => {
        filters.push({ flag, value: v });
        return v;
      }),
    );
  }
  return cmd
    .option('--since <time>', 'Start of the range: a duration back from now (1h, 30m) or an RFC 3339 time', '1h')
    .option('--until <time>', 'End of the range (default now)')
    .option('--limit <n>', 'Rows per list (drops, policy verdicts, DNS names, ICMP errors), 1..200')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (o) => {
      if (!WHY_OUTPUT_FORMATS.includes(o.output as WhyOutputFormat)) throw new UsageError(`invalid output format "${o.output}": expected text or json`);
      const req = whyRequest({ filters, since: o.since, until: o.until, limit: o.limit });
      const report = await askRelay(o.server, 60_000, o, (client) => client.why(req));
      process.stdout.write(formatWhyReport(report, o.output as WhyOutputFormat));
      process.exitCode = whyExitCode(report.verdict);
    });
}
