// The namespaces a request names outright: the namespace part of its pod and service filters
// (`ns/name`, `ns/`, or a bare name in "default", as those filters read them). A scoped caller
// asking only about namespaces it may not see is refused instead of answered with nothing.
import type { FlowFilter } from '../proto/types.js';
import { parseNamespaceName } from './namespaced-name.js';

export function namedNamespaces(filters: readonly FlowFilter[]): Set<string> {
  const out = new Set<string>();
  for (const ff of filters) {
    for (const v of [...(ff.source_pod ?? []), ...(ff.destination_pod ?? []), ...(ff.source_service ?? []), ...(ff.destination_service ?? [])]) {
      const { ns } = parseNamespaceName(v);
      if (ns !== '') out.add(ns);
    }
  }
  return out;
}

/** True when `filters` name namespaces and none of them is in `scope`. */
export function namesOnlyOutside(filters: readonly FlowFilter[], scope: ReadonlySet<string>): boolean {
  const named = namedNamespaces(filters);
  if (named.size === 0) return false;
  for (const ns of named) if (scope.has(ns)) return false;
  return true;
}
