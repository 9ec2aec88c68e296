// `hubble status` output: the health check line, then the ServerStatusResponse as compact
// text, dict, table or protojson.
import { types } from '../../proto/index.js';
import type { ServerStatusResponse } from '../../proto/index.js';
import { goDuration, goFixed, uint64Grouping } from './go-format.js';
import { protoJSONLine } from './json-line.js';
import { TabWriter } from './tabwriter.js';

export type StatusOutputFormat = 'compact' | 'dict' | 'table' | 'json';
export const STATUS_OUTPUT_FORMATS: readonly string[] = ['compact', 'dict', 'table', 'tab', 'json', 'JSON', 'jsonpb'];

/** "Healthcheck (via localhost:4245): Ok" — printed only with compact output. */
export function formatHealthcheck(target: string, status: string): string {
  return `Healthcheck (via ${target}): ${status}\n`;
}

/** The status text of a gRPC health answer, as hubble words it. */
export function healthStatusText(servingStatus: string): string {
  return servingStatus === 'SERVING' ? 'Ok' : `Unavailable: ${servingStatus}`;
}

/** Normalises hubble's accepted spellings (tab, JSON, jsonpb) or returns undefined. */
export function statusOutputFormat(name: string): StatusOutputFormat | undefined {
  switch (name) {
    case 'compact':
      return 'compact';
    case 'dict':
      return 'dict';
    case 'tab':
    case 'table':
      return 'table';
    case 'json':
    case 'JSON':
    case 'jsonpb':
      return 'json';
  }
  return undefined;
}

/** The ServerStatusResponse part of `hubble status`, in the given format. */
export function formatServerStatus(res: ServerStatusResponse, output: StatusOutputFormat): string {
  if (output === 'json') return protoJSONLine(types.ServerStatusResponse, res);
  const numFlows = res.num_flows ?? 0;
  const maxFlows = res.max_flows ?? 0;
  const seen = res.seen_flows ?? 0;
  const uptimeNs = res.uptime_ns ?? 0;
  const connected = res.num_connected_nodes ? String(res.num_connected_nodes.value ?? 0) : 'N/A';
  const unavailable = res.num_unavailable_nodes ? String(res.num_unavailable_nodes.value ?? 0) : 'N/A';
  let flowsPerSec = (res.flows_rate ?? 0) > 0 ? goFixed(res.flows_rate as number, 2) : 'N/A';

  if (output === 'table') {
    let text = '';
    const tw = new TabWriter((s) => {
      text += s;
    });
    tw.write(`NUM FLOWS\tMAX FLOWS\tSEEN FLOWS\tFLOWS PER SECOND\tUPTIME\tNUM CONNECTED NODES\tNUM UNAVAILABLE NODES\tVERSION\n`);
    tw.write(
      `${uint64Grouping(numFlows)}\t${uint64Grouping(maxFlows)}\t${uint64Grouping(seen)}\t${flowsPerSec}\t${goDuration(uptimeNs)}\t${connected}\t${unavailable}\t${res.version ?? ''}\n`,
    );
    tw.flush();
    return text;
  }
  if (output === 'dict') {
    return (
      `          NUM FLOWS: ${uint64Grouping(numFlows)}\n` +
      `          MAX FLOWS: ${uint64Grouping(maxFlows)}\n` +
      `         SEEN FLOWS: ${uint64Grouping(seen)}\n` +
      `   FLOWS PER SECOND: ${flowsPerSec}\n` +
      `             UPTIME: ${goDuration(uptimeNs)}\n` +
      `NUM CONNECTED NODES: ${connected}\n` +
      ` NUM UNAVAIL. NODES: ${unavailable}\n` +
      `            VERSION: ${res.version ?? ''}\n`
    );
  }
  let text = '';
  const ratio = maxFlows > 0 ? ` (${goFixed((numFlows / maxFlows) * 100, 2)}%)` : '';
  text += `Current/Max Flows: ${uint64Grouping(numFlows)}/${uint64Grouping(maxFlows)}${ratio}\n`;
  // Without a server-side rate, hubble averages seen flows over the uptime.
  const uptimeSeconds = uptimeNs / 1e9;
  if (flowsPerSec === 'N/A' && uptimeSeconds > 0) flowsPerSec = goFixed(seen / uptimeSeconds, 2);
  text += `Flows/s: ${flowsPerSec}\n`;
  const numConnected = res.num_connected_nodes;
  const numUnavailable = res.num_unavailable_nodes;
  if (numConnected) {
    const total = numUnavailable ? `/${(numUnavailable.value ?? 0) + (numConnected.value ?? 0)}` : '';
    text += `Connected Nodes: ${numConnected.value ?? 0}${total}\n`;
  }
  const nUnavail = numUnavailable?.value ?? 0;
  if (numUnavailable && nUnavail > 0) {
    const list = res.unavailable_nodes;
    if (list && list.length > 0) {
      const names = [...list].sort();
      if (nUnavail > names.length) names.push(`and ${nUnavail - names.length} more...`);
      text += `Unavailable Nodes: ${nUnavail}\n  - ${names.join('\n  - ')}\n`;
    } else {
      text += `Unavailable Nodes: ${nUnavail}\n`;
    }
  }
  return text;
}
