// A stand-in for the relay's side of flowscope.ingest.v1.Ingest/Push, for collector tests: the
// same protocol (Hello answered with the session's resume point, batches in sequence order,
// resends below the resume point ignored, a sequence gap refused with INVALID_ARGUMENT,
// cumulative acks), with "storage" an in-memory FakeIngestStore that outlives a server, so a
// test can stop the relay and start it again on the same port and data.
import * as grpc from '@grpc/grpc-js';
import { IngestService, bindServer } from '../common/grpc-services.js';
import type { Flow, IngestAck, IngestMessage, LostEvent } from '../proto/types.js';
import { blockToFlows } from '../schema/native/flow-block.js';
import { DEFAULT_SHIPPER_OPTIONS, type ShipperOptions } from '../collector/ship/shipper.js';

export interface StoredBatch {
  session: string;
  seq: number;
  flows: Flow[];
  lost: LostEvent[];
}

export class FakeIngestStore {
  /** Every accepted batch, in arrival order. */
  readonly batches: StoredBatch[] = [];
  /** Highest stored sequence number per session. */
  readonly durable = new Map<string, number>();
  /** Sessions in the order their Hello arrived (one entry per stream). */
  readonly hellos: string[] = [];
  duplicates = 0;
  refused = 0;
  /** Batches numbered above this are neither stored nor acknowledged (lost in flight). */
  acceptUpTo = Infinity;

  flows(session?: string): Flow[] {
    return this.batches.filter((b) => session === undefined || b.session === session).flatMap((b) => b.flows);
  }

  lostEvents(): LostEvent[] {
    return this.batches.flatMap((b) => b.lost);
  }

  seqs(session: string): number[] {
    return this.batches.filter((b) => b.session === session).map((b) => b.seq);
  }
}

export interface FakeIngestRelay {
  port: number;
  stop(): Promise<void>;
}

/** Serves Ingest/Push on 127.0.0.1:`port` (0: any) over `store`. */
export async function startFakeIngestRelay(store: FakeIngestStore, port = 0): Promise<FakeIngestRelay> {
  const server = new grpc.Server();
  server.addService(IngestService, {
    Push: (call: grpc.ServerDuplexStream<IngestMessage, IngestAck>) => {
      let session: string | null = null;
      let accepted = 0;
      call.on('data', (msg: IngestMessage) => {
        if (msg.hello) {
          session = msg.hello.session_id ?? '';
          store.hellos.push(session);
          accepted = store.durable.get(session) ?? 0;
          call.write({ durable_seq: accepted, resume: true });
          return;
        }
        const batch = msg.batch;
        if (!batch || session === null) return;
        const seq = batch.seq ?? 0;
        if (seq > store.acceptUpTo) return;
        if (seq <= accepted) {
          store.duplicates++;
          call.write({ durable_seq: accepted });
          return;
        }
        if (seq !== accepted + 1) {
          store.refused++;
          call.emit(
            'error',
            Object.assign(new Error(`sequence gap: expected ${accepted + 1}, got ${seq}`), {
              code: grpc.status.INVALID_ARGUMENT,
              details: `sequence gap: expected ${accepted + 1}, got ${seq}`,
            }),
          );
          return;
        }
        accepted = seq;
        const block = batch.block && batch.block.length > 0 ? Buffer.from(batch.block.buffer, batch.block.byteOffset, batch.block.byteLength) : null;
        store.batches.push({ session, seq, flows: block ? blockToFlows(block) : (batch.flows ?? []), lost: batch.lost_events ?? [] });
        store.durable.set(session, seq);
        call.write({ durable_seq: seq });
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  const bound = await bindServer(server, `127.0.0.1:${port}`);
  return {
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

/** A Shipper's options for a test against a stand-in relay on `port`: batches of 50 flows or
 * 5 ms, reconnects after 20–100 ms. */
export function testShipperOptions(port: number, over: Partial<ShipperOptions> = {}): ShipperOptions {
  return {
    ...DEFAULT_SHIPPER_OPTIONS,
    maxBatchFlows: 50,
    maxBatchDelayMs: 5,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    relayAddress: `127.0.0.1:${port}`,
    nodeName: 'n1',
    observerAddress: '',
    version: 't',
    ...over,
  };
}
