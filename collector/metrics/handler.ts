// One metric handler per Hubble `--hubble-metrics` name (pkg/hubble/metrics/<name>): it owns its
// counter families and is handed every flow the collector produces.
import type { Flow } from '../../proto/types.js';
import type { CounterFamily, SeriesPolicy } from '../../common/metrics/family.js';

export interface FlowMetricHandler {
  readonly name: string;
  readonly families: readonly CounterFamily[];
  process(flow: Flow, nowMs: number): void;
}

export type HandlerFactory = (options: Map<string, string>, policy: SeriesPolicy) => FlowMetricHandler;

/** Options a handler accepts besides the context ones; anything else is a configuration error. */
export function takeFlags(name: string, options: Map<string, string>, allowed: readonly string[]): Set<string> {
  const flags = new Set<string>();
  for (const [k, v] of options) {
    if (!allowed.includes(k))
      throw new Error(
        `metric "${name}": unknown option "${k}"${allowed.length ? ` (known: ${allowed.join(', ')}, sourceContext, destinationContext, labelsContext)` : ''}`,
      );
    if (v !== '' && v !== 'true') throw new Error(`metric "${name}": option "${k}" takes no value`);
    flags.add(k);
  }
  return flags;
}
