// The IngestMessage of a batch, framed around its Native block where the block was written: the
// block writer leaves room before the block, and the protobuf framing (message tag and length,
// the batch's seq and lost events, the block's tag and length) goes there. The bytes are the
// ones protobufjs would write (fields in number order), without copying the block into a second
// buffer of its size.
import { types, encode } from '../../proto/index.js';
import type { LostEvent } from '../../proto/types.js';
import { varuintSize, writeVaruint } from '../../schema/native/writer.js';

/** Room left before a block for its framing: a batch with few lost events fits. */
export const BATCH_HEADROOM = 64;

// Field tags, wire type 2 (length-delimited): IngestMessage.batch = 2, FlowBatch.block = 4.
const TAG_BATCH = (2 << 3) | 2;
const TAG_BLOCK = (4 << 3) | 2;

/**
 * The encoded IngestMessage { batch: { seq, lost_events, block } }. `framed` holds the block from
 * byte `headroom` on (FlowBlockWriter.finish(headroom)); null: a batch without flows.
 */
export function encodeBatchMessage(seq: number, lost: readonly LostEvent[], framed: Buffer | null, headroom = BATCH_HEADROOM): Buffer {
  if (framed === null) return encode(types.IngestMessage, { batch: { seq, lost_events: lost } });
  const blockLen = framed.length - headroom;
  const head = encode(types.FlowBatch, { seq, lost_events: lost });
  const batchLen = head.length + 1 + varuintSize(blockLen) + blockLen;
  const prefix = 1 + varuintSize(batchLen) + head.length + 1 + varuintSize(blockLen);
  if (prefix > headroom) {
    // Many lost events: the framing does not fit in front; encode it the usual way (one copy).
    return encode(types.IngestMessage, { batch: { seq, lost_events: lost, block: framed.subarray(headroom) } });
  }
  const start = headroom - prefix;
  let p = start;
  framed[p++] = TAG_BATCH;
  p = writeVaruint(framed, p, batchLen);
  p += head.copy(framed, p);
  framed[p++] = TAG_BLOCK;
  writeVaruint(framed, p, blockLen);
  return framed.subarray(start);
}
