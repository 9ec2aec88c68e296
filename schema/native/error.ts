// The one error the block validator and reader throw: relays reject a bad block by its reason
// (and count it per reason) instead of crashing on whatever a corrupt buffer would trigger.

export type NativeBlockReason =
  | 'too-large' // the buffer is over limits.maxBytes
  | 'truncated' // a value (or the elements an array count declares) runs past the end of the buffer
  | 'varint' // a variable-length integer longer than ten bytes
  | 'columns' // the column count differs from the expected schema
  | 'header' // a column's name or type differs from the expected schema, or a type is unsupported
  | 'rows' // zero rows, or more than limits.maxRows
  | 'offsets' // array offsets decrease
  | 'dictionary' // LowCardinality structure: version, flags, dictionary or index values
  | 'trailing'; // bytes left after the last column

export class NativeBlockError extends Error {
  override readonly name = 'NativeBlockError';
  constructor(
    readonly reason: NativeBlockReason,
    message: string,
  ) {
    super(`invalid Native block (${reason}): ${message}`);
  }
}
