// The `hubble observe` printer: turns GetFlowsResponse messages (flows, node status events,
// lost events) into compact / dict / table / json / jsonpb output, byte for byte like the
// official CLI. Flow lines go to stdout; node status lines go to stderr, as in hubble.
import { types, enums } from '../../proto/index.js';
import type { Flow, GetFlowsResponse, LostEvent, NodeStatusEvent } from '../../proto/index.js';
import { NodeState } from '../../proto/index.js';
import { ANSI_COLOR, NO_COLOR, escapeTerminal } from './color.js';
import type { Colorer } from './color.js';
import { enumText, fmtIdentity, getFlowType, getHostNames, getSummary, getVerdict } from './flow-fields.js';
import { goQuote } from './go-format.js';
import { protoJSONLine } from './json-line.js';
import { TabWriter } from './tabwriter.js';
import { LAYOUTS, fmtTimestamp } from './time-format.js';

export type OutputFormat = 'compact' | 'dict' | 'table' | 'json' | 'jsonpb';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['compact', 'dict', 'table', 'json', 'jsonpb'];

export interface PrinterOptions {
  output: OutputFormat;
  /** Receives stdout text. */
  stdout: (s: string) => void;
  /** Receives stderr text (node status events); dropped when absent (hubble's --silent-errors). */
  stderr?: (s: string) => void;
  /** Go time layout (see LAYOUTS); default StampMilli. */
  timeLayout?: string;
  /** IANA zone, 'UTC' or 'Local' (default: the process zone, i.e. TZ). */
  timeZone?: string;
  /** Colour compact and dict output (never table or JSON). */
  color?: boolean;
  /** Print pod/service/DNS names instead of IPs (hubble --ip-translation, default true). */
  ipTranslation?: boolean;
  /** --print-node-name */
  nodeName?: boolean;
  /** --print-policy-names */
  policyNames?: boolean;
  /** --debug: also print informational node status events. */
  debug?: boolean;
}

export interface Printer {
  /** Prints one response. */
  write(res: GetFlowsResponse): void;
  /** Flushes buffered output (the table is aligned over everything written before). */
  close(): void;
}

const DICT_SEPARATOR = '------------';
const NODE_NAMES_CUTOFF = 50;

/** strings.Join that stops adding names past targetLen and appends " (and N more)". */
export function joinWithCutOff(elems: string[], sep: string, targetLen: number): string {
  let len = 0;
  let end = elems.length;
  for (let i = 0; i < elems.length; i++) {
    len += elems[i].length + sep.length;
    if (len > targetLen && i > 0) {
      end = i;
      break;
    }
  }
  const joined = elems.slice(0, end).join(sep);
  const omitted = elems.length - end;
  return omitted === 0 ? joined : `${joined} (and ${omitted} more)`;
}

// Go's %+v of a NodeStatusEvent (prototext), used only for states hubble has no sentence for.
function nodeStatusText(s: NodeStatusEvent): string {
  const parts: string[] = [];
  if (s.state_change) parts.push(`state_change:${enumText(enums.NodeState, s.state_change)}`);
  for (const n of s.node_names ?? []) parts.push(`node_names:${goQuote(n)}`);
  if (s.message) parts.push(`message:${goQuote(s.message)}`);
  return parts.join(' ');
}

export function createPrinter(opts: PrinterOptions): Printer {
  const layout = opts.timeLayout ?? LAYOUTS.StampMilli;
  const zone = opts.timeZone;
  const ipTranslation = opts.ipTranslation ?? true;
  // The tabwriter cannot align coloured text, so hubble turns colours off for tables.
  const color: Colorer = opts.color && opts.output !== 'table' ? ANSI_COLOR : NO_COLOR;
  const out = (s: string): void => opts.stdout(escapeTerminal(s, color.sequences));
  const err = (s: string): void => opts.stderr?.(escapeTerminal(s, color.sequences));
  const tw = opts.output === 'table' ? new TabWriter(opts.stdout) : undefined;
  const tab = (s: string): void => tw?.write(escapeTerminal(s, color.sequences));
  const ts = (t: GetFlowsResponse['time']): string => fmtTimestamp(layout, t, zone);
  let line = 0;

  function tableHeader(): void {
    if (line !== 0) return;
    tab(`TIMESTAMP\t${opts.nodeName ? 'NODE\t' : ''}SOURCE\tDESTINATION\tTYPE\tVERDICT\tSUMMARY\n`);
  }

  function writeFlow(res: GetFlowsResponse, f: Flow): void {
    switch (opts.output) {
      case 'json':
        opts.stdout(protoJSONLine(types.Flow, f));
        return;
      case 'jsonpb':
        opts.stdout(protoJSONLine(types.GetFlowsResponse, res));
        return;
      case 'table': {
        const [src, dst] = getHostNames(f, ipTranslation, color);
        tableHeader();
        tab(
          `${ts(f.time)}\t${opts.nodeName ? `${f.node_name ?? ''}\t` : ''}${src}\t${dst}\t${getFlowType(f)}\t${getVerdict(f, opts.policyNames, color)}\t${getSummary(f, color)}\n`,
        );
        break;
      }
      case 'dict': {
        const [src, dst] = getHostNames(f, ipTranslation, color);
        let s = line !== 0 ? `${DICT_SEPARATOR}\n` : '';
        s += `  TIMESTAMP: ${ts(f.time)}\n`;
        if (opts.nodeName) s += `       NODE: ${f.node_name ?? ''}\n`;
        s += `     SOURCE: ${src}\nDESTINATION: ${dst}\n       TYPE: ${getFlowType(f)}\n`;
        s += `    VERDICT: ${getVerdict(f, opts.policyNames, color)}\n    SUMMARY: ${getSummary(f, color)}\n`;
        out(s);
        break;
      }
      case 'compact': {
        let [src, dst] = getHostNames(f, ipTranslation, color);
        let srcId = fmtIdentity(f.source?.identity, color);
        let dstId = fmtIdentity(f.destination?.identity, color);
        let arrow = '->';
        if (!f.is_reply)
          arrow = '<>'; // direction unknown
        else if (f.is_reply.value) {
          // Replies are printed from the requester's point of view.
          [src, dst] = [dst, src];
          [srcId, dstId] = [dstId, srcId];
          arrow = '<-';
        }
        const node = opts.nodeName ? ` [${f.node_name ?? ''}]` : '';
        out(
          `${ts(f.time)}${node}: ${src} ${srcId} ${arrow} ${dst} ${dstId} ${getFlowType(f)} ${getVerdict(f, opts.policyNames, color)} (${getSummary(f, color)})\n`,
        );
        break;
      }
    }
    line++;
  }

  function writeNodeStatus(res: GetFlowsResponse, s: NodeStatusEvent): void {
    const state = s.state_change ?? 0;
    // Without --debug only problems are shown.
    if (!opts.debug && state !== NodeState.NODE_ERROR && state !== NodeState.NODE_UNAVAILABLE) return;
    const names = s.node_names ?? [];
    const nodeNames = joinWithCutOff(names, ', ', NODE_NAMES_CUTOFF);
    switch (opts.output) {
      case 'jsonpb':
        opts.stderr?.(protoJSONLine(types.GetFlowsResponse, res));
        return;
      case 'json':
        return;
      case 'dict': {
        // The separator keeps interleaved stdout/stderr readable.
        let text = '';
        if (line !== 0) text += `${DICT_SEPARATOR}\n`;
        else line++;
        const message = s.message ? goQuote(s.message) : 'N/A';
        text += `  TIMESTAMP: ${ts(res.time)}\n      STATE: ${enumText(enums.NodeState, state)}\n      NODES: ${nodeNames}\n    MESSAGE: ${message}\n`;
        err(text);
        return;
      }
      case 'table':
      case 'compact': {
        const prefix = `${ts(res.time)} [${res.node_name ?? ''}]`;
        let msg: string;
        switch (state) {
          case NodeState.NODE_CONNECTED:
            msg = `${prefix}: Receiving flows from ${names.length} nodes: ${nodeNames}`;
            break;
          case NodeState.NODE_UNAVAILABLE:
            msg = `${prefix}: ${names.length} nodes are unavailable: ${nodeNames}`;
            break;
          case NodeState.NODE_GONE:
            msg = `${prefix}: ${names.length} nodes removed from cluster: ${nodeNames}`;
            break;
          case NodeState.NODE_ERROR:
            msg = `${prefix}: Error ${goQuote(s.message ?? '')} on ${names.length} nodes: ${nodeNames}`;
            break;
          default:
            msg = `${prefix}: unknown node status event: ${nodeStatusText(s)}`;
        }
        err(`${msg}\n`);
      }
    }
  }

  function writeLostEvent(res: GetFlowsResponse, e: LostEvent): void {
    const src = enumText(enums.LostEventSource, e.source);
    const cpu = e.cpu?.value ?? 0;
    const lost = e.num_events_lost ?? 0;
    const range = e.first && e.last ? ` (first: ${ts(e.first)}, last: ${ts(e.last)})` : '';
    const nodeName = res.node_name ? res.node_name : '-';
    switch (opts.output) {
      case 'json':
        opts.stdout(protoJSONLine(types.LostEvent, e));
        return;
      case 'jsonpb':
        opts.stdout(protoJSONLine(types.GetFlowsResponse, res));
        return;
      case 'table':
        tableHeader();
        tab(`${ts(res.time)}\t${opts.nodeName ? `${nodeName}\t` : ''}${src}\t-\tEVENTS LOST\t-\tCPU(${cpu}) - ${lost}${range}\n`);
        break;
      case 'dict': {
        let s = line !== 0 ? `${DICT_SEPARATOR}\n` : '';
        s += `  TIMESTAMP: ${ts(res.time)}\n`;
        if (opts.nodeName) s += `       NODE: ${nodeName}\n`;
        s += `     SOURCE: ${src}\n       TYPE: EVENTS LOST\n    VERDICT: -\n    SUMMARY: CPU(${cpu}) - ${lost}${range}\n`;
        out(s);
        break;
      }
      case 'compact':
        out(`${ts(res.time)} EVENTS LOST: ${src} CPU(${cpu}) ${lost}${range}\n`);
        break;
    }
    line++;
  }

  return {
    write(res) {
      if (res.flow) writeFlow(res, res.flow);
      else if (res.node_status) writeNodeStatus(res, res.node_status);
      else if (res.lost_events) writeLostEvent(res, res.lost_events);
      // A response with none of the three prints nothing, as in hubble.
    },
    close() {
      tw?.flush();
    },
  };
}

/** Formats a whole sequence of responses; convenient for tests and one-shot output. */
export function formatResponses(responses: Iterable<GetFlowsResponse>, opts: Omit<PrinterOptions, 'stdout' | 'stderr'>): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const p = createPrinter({
    ...opts,
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  for (const r of responses) p.write(r);
  p.close();
  return { stdout, stderr };
}
