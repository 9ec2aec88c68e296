// `[namespace/][name-prefix]` matching shared by the pod and service filters (Hubble k8s.go).
import { FilterError } from './errors.js';
import type { Compiled } from './types.js';
import { anyOf } from './types.js';
import type { Params } from './params.js';

/** k8s.ParseNamespaceName: `ns/name` (a third segment is ignored, as strings.Split does), or a
 * bare name in the `default` namespace. */
export function parseNamespaceName(s: string): { ns: string; prefix: string } {
  const parts = s.split('/');
  if (parts.length > 1) return { ns: parts[0], prefix: parts[1] };
  return { ns: s === '' ? '' : 'default', prefix: s };
}

export function namespacedName(
  values: readonly string[],
  get: (f: import('../proto/types.js').Flow) => [string, string],
  nsCol: string,
  nameCol: string,
  p: Params,
  what: string,
): Compiled {
  const fs = values.map((v) => {
    const r = parseNamespaceName(v);
    if (r.ns === '' && r.prefix === '') throw new FilterError(`${what}: invalid filter, must be [namespace/][<name>], got ${JSON.stringify(v)}`);
    return r;
  });
  const sql = fs.map((f) => {
    const ns = `${nsCol} = ${p.str(f.ns)}`;
    return f.prefix === '' ? ns : `(${ns} AND startsWith(${nameCol}, ${p.str(f.prefix)}))`;
  });
  return {
    match: (flow) => {
      const [ns, name] = get(flow);
      if (ns === '' && name === '') return false;
      return fs.some((f) => f.ns === ns && (f.prefix === '' || name.startsWith(f.prefix)));
    },
    sql: `(NOT (${nsCol} = '' AND ${nameCol} = '') AND ${anyOf(sql)})`,
  };
}
