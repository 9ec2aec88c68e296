import type { Flow, FlowFilter } from '../proto/types.js';
import type { Params } from './params.js';

/** One FlowFilter field compiled two ways; both must select exactly the same flows. */
export interface Compiled {
  match: (flow: Flow) => boolean;
  /** Boolean SQL expression over the `flows` table columns (storage/schema.ts). */
  sql: string;
}

/** A filter kind owns some FlowFilter fields (Hubble: one OnBuildFilter per file). */
export interface FilterKind {
  readonly name: string;
  readonly fields: readonly (keyof FlowFilter)[];
  /** Compiles the owned fields that are set; throws FilterError on bad values. */
  build(ff: FlowFilter, p: Params): Compiled[];
}

/** Hubble tests `GetX() != nil`; an empty repeated field decodes as nil, so "set" means non-empty. */
export function isSet<T>(v: readonly T[] | undefined): v is readonly T[] {
  return v !== undefined && v.length > 0;
}

/** OR of SQL alternatives (values inside one field are ORed). */
export function anyOf(parts: string[]): string {
  if (parts.length === 0) return '0';
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}
