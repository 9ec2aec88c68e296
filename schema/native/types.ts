// The column types a Native block may hold: exactly those of the flows table
// (storage/schema.ts FLOW_COLUMNS), each reduced to how its values are laid out in Native.
import { FLOW_COLUMNS } from '../flow-columns.js';

export interface NativeColumn {
  readonly name: string;
  readonly type: string;
}

/** How a column's values are serialised. Plain numbers so the hot paths compare integers. */
export const Kind = {
  U8: 0,
  U16: 1,
  U32: 2,
  I32: 3,
  U64: 4,
  DateTime64: 5,
  IPv6: 6,
  String: 7,
  LowCardinality: 8,
  ArrayString: 9,
  ArrayLowCardinality: 10,
  ArrayU64: 11,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

const KINDS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['UInt8', Kind.U8],
  ['UInt16', Kind.U16],
  ['UInt32', Kind.U32],
  ['Int32', Kind.I32],
  ['UInt64', Kind.U64],
  ['DateTime64(9)', Kind.DateTime64],
  ['IPv6', Kind.IPv6],
  ['String', Kind.String],
  ['LowCardinality(String)', Kind.LowCardinality],
  ['Array(String)', Kind.ArrayString],
  ['Array(LowCardinality(String))', Kind.ArrayLowCardinality],
  ['Array(UInt64)', Kind.ArrayU64],
]);

/** Bytes per value of the fixed-width kinds (0 for the others). */
export const FIXED_WIDTH: readonly number[] = [1, 2, 4, 4, 8, 8, 16, 0, 0, 0, 0, 0];

/** The kind of a type name as ClickHouse spells it, or undefined when blocks cannot hold it. */
export function kindOf(type: string): Kind | undefined {
  return KINDS.get(type);
}

export function supportedTypes(): string[] {
  return [...KINDS.keys()];
}

/** The type without its CODEC(...) clause: what a Native header and file() structures carry. */
export function stripCodec(type: string): string {
  return type.replace(/\s+CODEC\(.*\)$/, '');
}

/** The flows table's columns in insert order, as a Native block of flows declares them. */
export const FLOW_NATIVE_COLUMNS: readonly NativeColumn[] = Object.freeze(FLOW_COLUMNS.map((c) => Object.freeze({ name: c.name, type: stripCodec(c.type) })));

/** `name Type, …` for file(…, 'Native', structure). */
export function structureOf(columns: readonly NativeColumn[]): string {
  return columns.map((c) => `${c.name} ${c.type}`).join(', ');
}
