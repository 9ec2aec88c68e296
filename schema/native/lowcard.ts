// The LowCardinality parts a block reader must check: the keys-serialisation version (the
// column's state prefix) and a granule's flags. Shared by the validator and the debug reader.
import type { Cursor } from './cursor.js';
import { NativeBlockError } from './error.js';
import { LC_KEYS_VERSION, LC_HAS_ADDITIONAL_KEYS, LC_NEED_UPDATE_DICTIONARY } from './writer.js';

export function readKeysVersion(cur: Cursor, what: string): void {
  const v = cur.u64(what);
  if (v !== LC_KEYS_VERSION) throw new NativeBlockError('dictionary', `${what}: LowCardinality keys version ${v}, want ${LC_KEYS_VERSION}`);
}

/**
 * A granule's flags; returns the index width in bytes. Accepted: what ClickHouse writes for
 * Native, i.e. additional keys (the granule's own dictionary) and no global dictionary, which
 * a Native stream never has (it would be read from a separate keys stream).
 */
export function readGranuleFlags(cur: Cursor, what: string): number {
  const flags = cur.u64(what);
  const code = flags % 0x100;
  const bits = flags - code;
  if (code > 3 || (bits !== LC_HAS_ADDITIONAL_KEYS && bits !== (LC_HAS_ADDITIONAL_KEYS | LC_NEED_UPDATE_DICTIONARY))) {
    throw new NativeBlockError(
      'dictionary',
      `${what}: LowCardinality granule flags 0x${flags.toString(16)} (want additional keys, no global dictionary, index type 0..3)`,
    );
  }
  return 1 << code;
}

/** A granule's index count: at least one, at most the values still missing from the column. */
export function readIndexCount(cur: Cursor, left: number, what: string): number {
  const n = cur.u64(what);
  if (n === 0 || n > left) throw new NativeBlockError('dictionary', `${what}: granule of ${n} indexes where 1..${left} values remain`);
  return n;
}
