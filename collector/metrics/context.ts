// Hubble's context options (pkg/hubble/metrics/api/context.go): sourceContext /
// destinationContext (a `|` list, first non-empty value wins) add the labels `source` /
// `destination`; labelsContext adds one label per listed name, in Hubble's fixed order.
import type { Endpoint, Flow } from '../../proto/types.js';
import { TrafficDirection } from '../../proto/types.js';

const CONTEXT_KINDS = ['identity', 'namespace', 'pod', 'pod-short', 'pod-name', 'dns', 'ip', 'reserved-identity', 'workload', 'workload-name', 'app'] as const;
type ContextKind = (typeof CONTEXT_KINDS)[number];

export const LABELS_CONTEXT = [
  'source_ip',
  'source_namespace',
  'source_pod',
  'source_workload',
  'source_workload_kind',
  'source_app',
  'destination_ip',
  'destination_namespace',
  'destination_pod',
  'destination_workload',
  'destination_workload_kind',
  'destination_app',
  'traffic_direction',
] as const;
type LabelsContextName = (typeof LABELS_CONTEXT)[number];

const APP_LABELS = ['k8s:app.kubernetes.io/name=', 'k8s:k8s-app=', 'k8s:app='];

function app(ep: Endpoint | undefined): string {
  const labels = ep?.labels;
  if (!labels) return '';
  for (const prefix of APP_LABELS) for (const l of labels) if (l.startsWith(prefix)) return l.slice(prefix.length);
  return '';
}

function reservedIdentity(ep: Endpoint | undefined): string {
  const labels = ep?.labels;
  if (!labels) return '';
  if (labels.includes('reserved:kube-apiserver')) return 'reserved:kube-apiserver';
  for (const l of labels) if (l.startsWith('reserved:')) return l;
  return '';
}

// "frontend-7d4b9c-x2x9z" → "frontend": drop the ReplicaSet hash and pod suffix Hubble removes.
function podShort(name: string): string {
  const m = /^(.*?)(-[a-z0-9]{5,10})?-[a-z0-9]{5}$/.exec(name);
  return m ? m[1] : name;
}

function contextValue(kind: ContextKind, flow: Flow, side: 'source' | 'destination'): string {
  const ep = side === 'source' ? flow.source : flow.destination;
  switch (kind) {
    case 'identity':
      return ep?.labels?.join(',') ?? '';
    case 'namespace':
      return ep?.namespace ?? '';
    case 'pod':
      return ep?.pod_name ? `${ep.namespace ?? ''}/${ep.pod_name}` : '';
    case 'pod-short':
      return ep?.pod_name ? `${ep.namespace ?? ''}/${podShort(ep.pod_name)}` : '';
    case 'pod-name':
      return ep?.pod_name ?? '';
    case 'dns':
      return (side === 'source' ? flow.source_names : flow.destination_names)?.join(',') ?? '';
    case 'ip':
      return (side === 'source' ? flow.IP?.source : flow.IP?.destination) ?? '';
    case 'reserved-identity':
      return reservedIdentity(ep);
    case 'workload': {
      const w = ep?.workloads?.[0]?.name;
      return w ? `${ep?.namespace ?? ''}/${w}` : '';
    }
    case 'workload-name':
      return ep?.workloads?.[0]?.name ?? '';
    case 'app':
      return app(ep);
  }
}

function labelsContextValue(name: LabelsContextName, flow: Flow): string {
  switch (name) {
    case 'source_ip':
      return flow.IP?.source ?? '';
    case 'source_namespace':
      return flow.source?.namespace ?? '';
    case 'source_pod':
      return flow.source?.pod_name ?? '';
    case 'source_workload':
      return flow.source?.workloads?.[0]?.name ?? '';
    case 'source_workload_kind':
      return flow.source?.workloads?.[0]?.kind ?? '';
    case 'source_app':
      return app(flow.source);
    case 'destination_ip':
      return flow.IP?.destination ?? '';
    case 'destination_namespace':
      return flow.destination?.namespace ?? '';
    case 'destination_pod':
      return flow.destination?.pod_name ?? '';
    case 'destination_workload':
      return flow.destination?.workloads?.[0]?.name ?? '';
    case 'destination_workload_kind':
      return flow.destination?.workloads?.[0]?.kind ?? '';
    case 'destination_app':
      return app(flow.destination);
    case 'traffic_direction':
      return flow.traffic_direction === TrafficDirection.INGRESS ? 'ingress' : flow.traffic_direction === TrafficDirection.EGRESS ? 'egress' : 'unknown';
  }
}

function parseKinds(option: string, value: string): ContextKind[] {
  const kinds = value.split('|');
  for (const k of kinds)
    if (!(CONTEXT_KINDS as readonly string[]).includes(k)) throw new Error(`invalid ${option} "${k}" (expected one of: ${CONTEXT_KINDS.join(', ')})`);
  return kinds as ContextKind[];
}

/** The context labels of one metric handler, parsed once from its options. */
export class ContextLabels {
  private readonly source: ContextKind[] = [];
  private readonly destination: ContextKind[] = [];
  private readonly labels: LabelsContextName[] = [];
  /** Label names in Hubble's order: labelsContext, then source, then destination. */
  readonly names: string[];

  /** Reads and removes the context options, so the handler can reject what is left as unknown. */
  constructor(options: Map<string, string>) {
    const src = options.get('sourceContext');
    const dst = options.get('destinationContext');
    const lbl = options.get('labelsContext');
    options.delete('sourceContext');
    options.delete('destinationContext');
    options.delete('labelsContext');
    if (src !== undefined) this.source = parseKinds('sourceContext', src);
    if (dst !== undefined) this.destination = parseKinds('destinationContext', dst);
    if (lbl !== undefined) {
      const wanted = new Set(lbl.split(',').filter(Boolean));
      for (const w of wanted)
        if (!(LABELS_CONTEXT as readonly string[]).includes(w))
          throw new Error(`invalid labelsContext "${w}" (expected some of: ${LABELS_CONTEXT.join(', ')})`);
      this.labels = LABELS_CONTEXT.filter((n) => wanted.has(n));
    }
    this.names = [...this.labels, ...(this.source.length ? ['source'] : []), ...(this.destination.length ? ['destination'] : [])];
  }

  /** Writes this flow's context label values into `out` from `offset`. */
  fill(flow: Flow, out: string[], offset: number): void {
    let i = offset;
    for (const n of this.labels) out[i++] = labelsContextValue(n, flow);
    if (this.source.length) out[i++] = firstNonEmpty(this.source, flow, 'source');
    if (this.destination.length) out[i++] = firstNonEmpty(this.destination, flow, 'destination');
  }
}

function firstNonEmpty(kinds: readonly ContextKind[], flow: Flow, side: 'source' | 'destination'): string {
  for (const k of kinds) {
    const v = contextValue(k, flow, side);
    if (v !== '') return v;
  }
  return '';
}
