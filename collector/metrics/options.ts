// Parses Hubble's metrics configuration: a list of `name[:option=value;option=value…]`, the
// syntax of `--hubble-metrics` / the hubble-metrics config map. Metrics are separated by spaces
// or commas (commas inside an option value such as labelsContext=a,b stay with the option).

export const METRIC_HANDLER_NAMES = ['flow', 'drop', 'tcp', 'icmp', 'port-distribution', 'flows-to-world', 'dns', 'policy'] as const;
export type MetricHandlerName = (typeof METRIC_HANDLER_NAMES)[number];

export interface MetricSpec {
  name: MetricHandlerName;
  options: Map<string, string>;
}

/** Default set: every family flowscope computes, with namespace/workload contexts. */
export const DEFAULT_METRICS =
  'flow:sourceContext=namespace;destinationContext=namespace drop:sourceContext=namespace;destinationContext=namespace tcp icmp port-distribution flows-to-world:sourceContext=namespace dns:sourceContext=namespace policy:sourceContext=namespace';

const isHandler = (s: string): boolean => (METRIC_HANDLER_NAMES as readonly string[]).includes(s.split(':')[0]);

export function parseMetricsConfig(text: string | readonly string[]): MetricSpec[] {
  const raw = (typeof text === 'string' ? [text] : text).join(' ');
  const words: string[] = [];
  for (const w of raw.split(/\s+/).filter(Boolean)) {
    for (const part of w.split(',')) {
      if (words.length > 0 && !isHandler(part) && (words[words.length - 1].includes('=') || part === '')) words[words.length - 1] += `,${part}`;
      else words.push(part);
    }
  }
  const seen = new Set<string>();
  const out: MetricSpec[] = [];
  for (const w of words) {
    if (w === '') continue;
    const colon = w.indexOf(':');
    const name = colon < 0 ? w : w.slice(0, colon);
    if (!isHandler(name)) throw new Error(`unknown metric "${name}" (known: ${METRIC_HANDLER_NAMES.join(', ')})`);
    if (seen.has(name)) throw new Error(`metric "${name}" configured twice`);
    seen.add(name);
    const options = new Map<string, string>();
    if (colon >= 0) {
      for (const opt of w
        .slice(colon + 1)
        .split(';')
        .filter(Boolean)) {
        const eq = opt.indexOf('=');
        const key = eq < 0 ? opt : opt.slice(0, eq);
        if (!key) throw new Error(`metric "${name}": empty option in "${w}"`);
        options.set(key, eq < 0 ? '' : opt.slice(eq + 1));
      }
    }
    out.push({ name: name as MetricHandlerName, options });
  }
  return out;
}
