// One column of the flows table from a flow in Hubble's JSON, each a small pure function (as the
// CLI's printers are), and the flattening of a flow into its fields for the details panel.

export interface Endpoint {
  namespace?: string;
  pod_name?: string;
  labels?: string[];
  workloads?: Array<{ name?: string; kind?: string }>;
  identity?: number;
}

export interface FlowJSON {
  uuid?: string;
  time?: string;
  verdict?: string;
  drop_reason_desc?: string;
  node_name?: string;
  Type?: string;
  Summary?: string;
  is_reply?: boolean;
  traffic_direction?: string;
  IP?: { source?: string; destination?: string };
  l4?: Record<string, { source_port?: number; destination_port?: number; flags?: Record<string, boolean> }>;
  source?: Endpoint;
  destination?: Endpoint;
  source_names?: string[];
  destination_names?: string[];
  event_type?: { type?: number; sub_type?: number };
  l7?: { type?: string };
  [k: string]: unknown;
}

/** Cilium's monitor message types, as `observe --type` names them. */
const EVENT_TYPES: Record<number, string> = { 1: 'drop', 2: 'debug', 3: 'capture', 4: 'trace', 5: 'policy-verdict', 7: 'trace-sock', 129: 'l7', 130: 'agent' };

export function eventType(f: FlowJSON): string {
  const t = f.event_type?.type;
  return t === undefined ? (f.Type ?? '') : (EVENT_TYPES[t] ?? String(t));
}

function ports(f: FlowJSON): { src?: number; dst?: number; proto?: string } {
  for (const [proto, l4] of Object.entries(f.l4 ?? {})) return { src: l4.source_port, dst: l4.destination_port, proto };
  return {};
}

export function protocol(f: FlowJSON): string {
  return ports(f).proto ?? (f.l7?.type ? 'L7' : '');
}

/** "shop/frontend-7d9:43210", else the IP (or a DNS name) and port. */
export function endpointText(f: FlowJSON, side: 'source' | 'destination'): string {
  const ep = f[side];
  const p = ports(f);
  const port = side === 'source' ? p.src : p.dst;
  const ip = side === 'source' ? f.IP?.source : f.IP?.destination;
  const names = side === 'source' ? f.source_names : f.destination_names;
  let who = ep?.pod_name ? `${ep.namespace ? `${ep.namespace}/` : ''}${ep.pod_name}` : (names?.[0] ?? ip ?? '');
  if (!who && ep?.labels?.length) who = ep.labels.find((l) => l.startsWith('reserved:')) ?? ep.labels[0];
  if (port) who += `:${port}`;
  return who;
}

export function timeText(t: string | undefined): string {
  if (!t) return '';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return t;
  // Milliseconds matter: many flows share a second.
  return `${d.toLocaleDateString(undefined, { month: 'short', day: '2-digit' })} ${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function summaryText(f: FlowJSON): string {
  const flags = Object.values(f.l4 ?? {})[0]?.flags;
  const tcp = flags
    ? Object.entries(flags)
        .filter(([, on]) => on)
        .map(([k]) => k)
        .join(',')
    : '';
  const parts = [f.drop_reason_desc && f.verdict !== 'FORWARDED' ? f.drop_reason_desc : '', f.Summary ?? '', tcp && !f.Summary ? `TCP Flags: ${tcp}` : ''];
  return parts.filter(Boolean).join(' · ');
}

/** Every leaf of a flow as [dotted path, text], arrays of scalars joined, in the flow's own order. */
export function flattenFields(value: unknown, prefix = '', out: Array<[string, string]> = []): Array<[string, string]> {
  if (value === null || value === undefined) return out;
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) out.push([prefix, value.join(', ')]);
    else value.forEach((v, i) => flattenFields(v, `${prefix}[${i}]`, out));
    return out;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flattenFields(v, prefix ? `${prefix}.${k}` : k, out);
    return out;
  }
  out.push([prefix, String(value)]);
  return out;
}
