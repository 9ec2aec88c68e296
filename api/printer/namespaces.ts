// `hubble list namespaces` output: NAMESPACE (and CLUSTER when wide), or indented JSON.
import type { Namespace } from '../../proto/index.js';
import { indentedJSONLine } from './json-line.js';
import { TabWriter } from './tabwriter.js';

export type NamespacesOutputFormat = 'table' | 'wide' | 'json';
export const NAMESPACES_OUTPUT_FORMATS: readonly NamespacesOutputFormat[] = ['json', 'table', 'wide'];

export function formatNamespaces(namespaces: readonly Namespace[] | undefined, output: NamespacesOutputFormat): string {
  const list = namespaces ?? [];
  if (output === 'json') {
    // encoding/json of the generated structs: proto names, empty fields omitted.
    return indentedJSONLine(
      namespaces ? list.map((n) => ({ ...(n.cluster ? { cluster: n.cluster } : {}), ...(n.namespace ? { namespace: n.namespace } : {}) })) : null,
    );
  }
  let text = '';
  const tw = new TabWriter((s) => {
    text += s;
  });
  const wide = output === 'wide';
  tw.write(wide ? 'NAMESPACE\tCLUSTER\n' : 'NAMESPACE\n');
  for (const n of list) tw.write(`${n.namespace ?? ''}${wide && n.cluster ? `\t${n.cluster}` : ''}\n`);
  tw.flush();
  return text;
}
