// Output of `flowscope service-map` and `flowscope top talkers|drops`: aligned tables, or the
// protojson of the response (one indented document) for scripts.
import { types, enums, enumName } from '../../proto/index.js';
import type { ServiceMapResponse, TopTalkersResponse, TopDropReasonsResponse } from '../../proto/types.js';
import { toProtoJSON } from '../../proto/json.js';
import { indentedJSONLine } from './json-line.js';
import { TabWriter } from './tabwriter.js';

export type InsightsOutputFormat = 'table' | 'json';
export const INSIGHTS_OUTPUT_FORMATS: readonly InsightsOutputFormat[] = ['table', 'json'];

function table(header: string, rows: string[][]): string {
  let text = '';
  const tw = new TabWriter((s) => {
    text += s;
  });
  tw.write(`${header}\n`);
  for (const r of rows) tw.write(`${r.join('\t')}\n`);
  tw.flush();
  return text;
}

const who = (ns: string | undefined, w: string | undefined) => (ns ? `${ns}/${w ?? ''}` : w || '-');
const n = (v: number | undefined) => String(v ?? 0);

export function formatServiceMap(res: ServiceMapResponse, output: InsightsOutputFormat): string {
  if (output === 'json') return indentedJSONLine(toProtoJSON(types.ServiceMapResponse, res as Record<string, unknown>));
  return table(
    'SOURCE\tDESTINATION\tPROTOCOL\tPORT\tFLOWS\tDROPPED\tBYTES',
    (res.edges ?? []).map((e) => [
      who(e.source_namespace, e.source_workload),
      who(e.destination_namespace, e.destination_workload),
      e.protocol || '-',
      e.destination_port ? String(e.destination_port) : '-',
      n(e.flows),
      n(e.dropped),
      n(e.bytes),
    ]),
  );
}

export function formatTopTalkers(res: TopTalkersResponse, output: InsightsOutputFormat): string {
  if (output === 'json') return indentedJSONLine(toProtoJSON(types.TopTalkersResponse, res as Record<string, unknown>));
  return table(
    'SOURCE\tFLOWS\tBYTES\tPEERS',
    (res.talkers ?? []).map((t) => [who(t.namespace, t.workload), n(t.flows), n(t.bytes), n(t.peers)]),
  );
}

export function formatTopDropReasons(res: TopDropReasonsResponse, output: InsightsOutputFormat): string {
  if (output === 'json') return indentedJSONLine(toProtoJSON(types.TopDropReasonsResponse, res as Record<string, unknown>));
  return table(
    'DROP REASON\tSOURCE NAMESPACE\tDESTINATION NAMESPACE\tFLOWS',
    (res.reasons ?? []).map((d) => [
      enumName(enums.DropReason, d.drop_reason ?? 0) ?? String(d.drop_reason ?? 0),
      d.source_namespace || '-',
      d.destination_namespace || '-',
      n(d.flows),
    ]),
  );
}
