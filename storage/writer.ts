// Row encoding for inserts. Text formats only: the chDB connection hands the insert body to
// the engine as a string, so binary formats (RowBinary, Native) cannot pass through
// @clickhouse/client; docs/storage.md has the measurements that picked the default.
import { flowToRow, type IngestMark } from './codec.js';
import type { Flow } from '../proto/types.js';

export type InsertFormat = 'JSONCompactEachRow' | 'TabSeparated';

// TSV: backslash escapes for the field, single-quoted elements inside arrays.
function tsvEscape(s: string): string {
  return /[\\\t\n\r\0]/.test(s) ? s.replace(/[\\\t\n\r\0]/g, (c) => TSV_ESC[c]) : s;
}
const TSV_ESC: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };
function quoted(s: string): string {
  return `'${/[\\'\t\n\r\0]/.test(s) ? s.replace(/[\\'\t\n\r\0]/g, (c) => (c === "'" ? "\\'" : TSV_ESC[c])) : s}'`;
}
function tsvValue(v: unknown): string {
  if (typeof v === 'string') return tsvEscape(v);
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? quoted(x) : String(x))).join(',')}]`;
  return String(v);
}

/** Rows of a batch; ingest marks go on the last row so they commit with (after) its flows. */
export function batchRows(flows: readonly Flow[], marks: readonly IngestMark[], now = Date.now(), batchId = 0): unknown[][] {
  const last = flows.length - 1;
  return flows.map((f, i) => flowToRow(f, i === last ? marks : [], now, batchId));
}

/** Insert body: JSON rows go to the client as values (it stringifies each row); TSV is a text
 * stream the client passes through unchanged. */
export function encodeBatch(flows: readonly Flow[], marks: readonly IngestMark[], format: InsertFormat, now = Date.now(), batchId = 0): unknown[][] | string {
  const rows = batchRows(flows, marks, now, batchId);
  if (format === 'JSONCompactEachRow') return rows;
  return rows.length === 0 ? '' : rows.map((r) => r.map(tsvValue).join('\t')).join('\n') + '\n';
}
