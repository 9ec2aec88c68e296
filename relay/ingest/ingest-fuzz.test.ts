// Malformed Native blocks on a live ingest stream, as a broken or hostile collector would send
// them: each is refused and counted by reason, its sequence number is still acknowledged, the
// stream stays up, and the well-formed batches around them are stored — nothing else is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Relay } from '../relay.js';
import { IngestClient } from '../../common/grpc-services.js';
import { createLogger } from '../../common/logger.js';
import type { IngestAck, IngestMessage } from '../../proto/types.js';
import { FlowBlockWriter } from '../../schema/native/flow-block.js';
import { MemoryRelayStore } from '../../testing/memory-relay-store.js';
import { validateNativeBlock } from '../../schema/native/validate.js';
import { FLOW_NATIVE_COLUMNS } from '../../schema/native/types.js';
import { NativeBlockError } from '../../schema/native/error.js';
import { DEFAULT_BLOCK_LIMITS } from './server.js';
import { genFlows, rng } from '../../testing/gen-flows.js';

/** A corrupted copy of a valid block: truncated, bytes flipped, garbage appended, or a lying
 * header (row or column count). */
function corrupt(block: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(block);
  switch (Math.floor(rand() * 5)) {
    case 0:
      return b.subarray(0, Math.floor(rand() * b.length));
    case 1: {
      for (let i = 0, n = 1 + Math.floor(rand() * 8); i < n; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      return b;
    }
    case 2:
      return Buffer.concat([b, Buffer.from([1, 2, 3, Math.floor(rand() * 256)])]);
    case 3:
      b[1] = 0x7f;
      return b; // a row count the columns do not hold
    default:
      b[0] = 1 + Math.floor(rand() * 200);
      return b; // a column count the schema does not have
  }
}

test('malformed blocks on the ingest stream are refused and counted; the stream survives and the good batches are stored', async () => {
  const log = createLogger('test', 'silent');
  const store = new MemoryRelayStore({ decode: false });
  const relay = new Relay(store, { listen: '127.0.0.1:0', nodeName: 'relay', batcher: { flushIntervalMs: 10, retryMinMs: 10, retryMaxMs: 50 } }, log);
  await relay.start();
  const client = new IngestClient(`127.0.0.1:${relay.port}`, grpc.credentials.createInsecure());
  const call = (client as unknown as { Push(): grpc.ClientDuplexStream<IngestMessage, IngestAck> }).Push();
  let durable = 0;
  const acked = new Promise<void>((resolve) =>
    call.on('data', (a: IngestAck) => {
      durable = Math.max(durable, a.durable_seq ?? 0);
      if (durable === BATCHES) resolve();
    }),
  );
  let ended = false;
  call.on('error', () => {
    ended = true;
  });
  call.on('end', () => {
    ended = true;
  });
  const BATCHES = 400;
  try {
    call.write({ hello: { node_name: 'fuzz-node', session_id: 'fuzz-session' } });
    const rand = rng(20261206);
    const w = new FlowBlockWriter();
    const pool = genFlows(2000, 5, Math.floor(Date.now() / 1000) - 60);
    let expectRows = 0,
      expectRefused = 0;
    const reasons = new Map<string, number>();
    for (let seq = 1; seq <= BATCHES; seq++) {
      const start = Math.floor(rand() * 1900),
        n = 1 + Math.floor(rand() * 100);
      for (const f of pool.slice(start, start + n)) w.add(f);
      let block = w.finish();
      if (seq % 2 === 0) block = corrupt(block, rand);
      try {
        expectRows += validateNativeBlock(block, FLOW_NATIVE_COLUMNS, DEFAULT_BLOCK_LIMITS).rows;
      } catch (err) {
        assert.ok(err instanceof NativeBlockError, String(err));
        expectRefused++;
        reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
      }
      call.write({ batch: { seq, block } });
    }
    await acked;
    assert.equal(durable, BATCHES, 'every sequence number acknowledged, refused ones included');
    assert.equal(ended, false, 'the stream is still open');
    assert.ok(expectRefused >= 150, `most corruptions are caught (${expectRefused})`);
    assert.equal(store.rowCount, expectRows, 'every row of every accepted block stored, nothing else');
    assert.deepEqual(new Map(Object.entries(relay.ingest.stats.rejectedBlocks)), reasons, 'refusals counted by reason');
    assert.equal(relay.ingest.stats.protocolErrors, 0);
  } finally {
    call.end();
    client.close();
    await relay.stop();
  }
});
