// `hubble list nodes` output: a tab-aligned table (optionally wide) or indented protojson.
import { root } from '../../proto/index.js';
import type { ObserverNode } from '../../proto/index.js';
import { NodeState } from '../../proto/index.js';
import { toProtoJSON } from '../../proto/json.js';
import { goDuration, goFixed, padLeft, roundToSecondNs } from './go-format.js';
import { indentedJSONLine } from './json-line.js';
import { TabWriter } from './tabwriter.js';

export type NodesOutputFormat = 'table' | 'wide' | 'json';
export const NODES_OUTPUT_FORMATS: readonly NodesOutputFormat[] = ['json', 'table', 'wide'];

const NA = 'N/A';
const NodeType = root.lookupType('observer.Node');

/** The status word hubble shows for a relay.NodeState (title-cased). */
export function nodeStateText(state: number | undefined): string {
  switch (state) {
    case NodeState.NODE_CONNECTED:
      return 'Connected';
    case NodeState.NODE_UNAVAILABLE:
      return 'Unavailable';
    case NodeState.NODE_GONE:
      return 'Gone';
    case NodeState.NODE_ERROR:
      return 'Error';
  }
  return 'Unknown';
}

/** Nodes sorted by name, as hubble sorts them before printing. */
export function sortNodes(nodes: readonly ObserverNode[]): ObserverNode[] {
  return [...nodes].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : 0));
}

/**
 * `hubble list nodes -o <output>`. `nodes` undefined stands for the empty repeated field
 * decoded from the wire, which hubble's JSON output prints as null.
 */
export function formatNodes(nodes: readonly ObserverNode[] | undefined, output: NodesOutputFormat): string {
  const sorted = sortNodes(nodes ?? []);
  if (output === 'json') {
    if (!nodes || nodes.length === 0) return indentedJSONLine(nodes ? [] : null);
    return indentedJSONLine(sorted.map((n) => toProtoJSON(NodeType, n as Record<string, unknown>)));
  }
  let text = '';
  const tw = new TabWriter((s) => {
    text += s;
  });
  const wide = output === 'wide';
  tw.write(`NAME\tSTATUS\tAGE\tFLOWS/S\tCURRENT/MAX-FLOWS${wide ? '\tVERSION\tADDRESS\tTLS' : ''}\n`);
  for (const n of sorted) {
    let age = NA;
    let flowsPerSec = NA;
    const uptime = roundToSecondNs(n.uptime_ns ?? 0);
    if (uptime > 0) {
      age = goDuration(uptime);
      flowsPerSec = goFixed((n.seen_flows ?? 0) / (uptime / 1e9), 2);
    }
    const maxFlows = n.max_flows ?? 0;
    const numFlows = n.num_flows ?? 0;
    const ratio = maxFlows > 0 ? `${numFlows}/${maxFlows} (${padLeft(goFixed((numFlows / maxFlows) * 100, 2), 6)}%)` : NA;
    let row = `${n.name ?? ''}\t${nodeStateText(n.state)}\t${age}\t${flowsPerSec}\t${ratio}`;
    if (wide) {
      const tls = n.tls ? (n.tls.enabled ? 'Enabled' : 'Disabled') : NA;
      row += `\t${n.version ? n.version : NA}\t${n.address ?? ''}\t${tls}`;
    }
    tw.write(`${row}\n`);
  }
  tw.flush();
  return text;
}
