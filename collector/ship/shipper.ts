// Ships decoded flows to the relay over flowscope.ingest.v1.Ingest/Push. Each flow is written
// straight into the columns of the current batch's ClickHouse Native block, so the relay only
// checks and forwards bytes. Batches carry per-session sequence numbers; a batch stays in memory
// until the relay says it is durable, and after a reconnect the relay's resume point decides
// what is sent again. Memory is bounded: when the unacknowledged backlog is full, new flows are
// dropped, counted, and reported to the relay as a LostEvent once there is room again.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Flow, IngestAck, IngestMessage, LostEvent } from '../../proto/types.js';
import { LostEventSource } from '../../proto/types.js';
import { types, encode } from '../../proto/index.js';
import { FlowBlockWriter } from '../../schema/native/flow-block.js';
import { IngestClient } from '../../common/grpc-services.js';
import { nowTimestamp, msToTimestamp } from '../../common/time.js';
import type { Logger } from '../../common/logger.js';

export interface ShipperOptions {
  relayAddress: string;
  nodeName: string;
  observerAddress: string;
  version: string;
  maxBatchFlows: number;
  maxBatchDelayMs: number;
  /** Flows sent or waiting but not yet acknowledged; beyond it new flows are dropped (counted). */
  maxUnackedFlows: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export const DEFAULT_SHIPPER_OPTIONS = { maxBatchFlows: 2000, maxBatchDelayMs: 100, maxUnackedFlows: 200_000, reconnectMinMs: 200, reconnectMaxMs: 5000 };

// A batch is encoded once, as its flows arrive: the backlog holds the Native block inside the
// IngestMessage bytes (≈0.45 KB a flow) rather than Flow objects (≈4 KB), and a resend after a
// reconnect costs no encoding.
interface PendingBatch { seq: number; count: number; body: Buffer }

export interface ShipperStats {
  batchesSent: number;
  batchesAcked: number;
  flowsSent: number;
  flowsAcked: number;
  flowsDropped: number;
  reconnects: number;
  connected: boolean;
  unackedFlows: number;
  lastAckLatencyMs: number;
}

export class Shipper {
  readonly session = randomUUID();
  private seq = 0;
  private readonly block = new FlowBlockWriter();
  private currentLost: LostEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly unacked: PendingBatch[] = [];
  private unackedFlows = 0;
  private sentUpTo = 0; // highest seq written on the current stream
  private droppedSinceReport = 0;
  private droppedFirstMs = 0;
  private client: grpc.Client | null = null;
  private call: grpc.ClientDuplexStream<IngestMessage, IngestAck> | null = null;
  private ready = false;
  private waitingForDrain = false;
  private stopped = false;
  private reconnectDelay: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private ackWaiters: Array<() => void> = [];
  private readonly sentAt = new Map<number, number>();
  /** Called with the send→durable-ack latency of every acknowledged batch (metrics hook). */
  onAckLatency: ((ms: number) => void) | null = null;
  readonly stats: ShipperStats = { batchesSent: 0, batchesAcked: 0, flowsSent: 0, flowsAcked: 0, flowsDropped: 0, reconnects: 0, connected: false, unackedFlows: 0, lastAckLatencyMs: 0 };

  /** Called for each flow dropped because the relay backlog is full (loss accounting). */
  onDrop: ((n: number) => void) | null = null;

  constructor(private readonly opts: ShipperOptions, private readonly log: Logger) {
    this.reconnectDelay = opts.reconnectMinMs;
  }

  start(): void {
    this.client = new IngestClient(this.opts.relayAddress, grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    });
    this.connect();
  }

  add(flow: Flow): void {
    if (this.unackedFlows + this.block.rows >= this.opts.maxUnackedFlows) {
      this.drop(1);
      return;
    }
    try {
      this.block.add(flow);
    } catch (err) {
      // A row that cannot be written leaves the block's columns uneven: the batch is lost, counted.
      const lost = this.block.rows + 1;
      this.block.reset();
      this.log.error({ err: (err as Error).message, lost }, 'flow could not be written to the batch block; batch dropped');
      this.drop(lost);
      return;
    }
    if (this.block.rows >= this.opts.maxBatchFlows) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.maxBatchDelayMs);
  }

  private drop(n: number): void {
    if (this.droppedSinceReport === 0) this.droppedFirstMs = Date.now();
    this.droppedSinceReport += n;
    this.stats.flowsDropped += n;
    this.onDrop?.(n);
  }

  /** Loss seen upstream of the shipper (perf ring, decode queue): forwarded with the next batch. */
  addLost(ev: LostEvent): void {
    this.currentLost.push(ev);
    this.timer ??= setTimeout(() => this.flush(), this.opts.maxBatchDelayMs);
  }

  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.droppedSinceReport > 0 && this.unackedFlows < this.opts.maxUnackedFlows) {
      this.currentLost.push({ source: LostEventSource.OBSERVER_EVENTS_QUEUE, num_events_lost: this.droppedSinceReport, first: msToTimestamp(this.droppedFirstMs), last: nowTimestamp() });
      this.droppedSinceReport = 0;
    }
    const count = this.block.rows;
    if (count === 0 && this.currentLost.length === 0) return;
    const seq = ++this.seq;
    const block = count > 0 ? this.block.finish() : undefined;
    const batch: PendingBatch = { seq, count, body: encode(types.IngestMessage, { batch: { seq, lost_events: this.currentLost, block } }) };
    this.currentLost = [];
    this.unacked.push(batch);
    this.unackedFlows += batch.count;
    this.stats.unackedFlows = this.unackedFlows;
    this.sendPending();
  }

  /** Flushes and waits until the relay acknowledged everything, or the timeout passed. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.flush();
    const deadline = Date.now() + timeoutMs;
    while (this.unacked.length > 0 && Date.now() < deadline) {
      await new Promise<void>((r) => { this.ackWaiters.push(r); setTimeout(r, Math.min(200, deadline - Date.now())); });
    }
    return this.unacked.length === 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.call?.end();
    this.call?.cancel();
    this.client?.close();
  }

  private connect(): void {
    if (this.stopped || !this.client) return;
    this.ready = false;
    this.sentUpTo = 0;
    const call = (this.client as unknown as { Push(): grpc.ClientDuplexStream<IngestMessage, IngestAck> }).Push();
    this.call = call;
    call.on('data', (ack: IngestAck) => this.onAck(call, ack));
    call.on('error', (err: grpc.ServiceError) => this.onBroken(call, err.details || err.message));
    call.on('end', () => this.onBroken(call, 'stream ended by relay'));
    call.write({ hello: { node_name: this.opts.nodeName, session_id: this.session, observer_address: this.opts.observerAddress, version: this.opts.version, started: nowTimestamp() } });
  }

  private onAck(call: grpc.ClientDuplexStream<IngestMessage, IngestAck>, ack: IngestAck): void {
    if (call !== this.call) return;
    const durable = ack.durable_seq ?? 0;
    while (this.unacked.length > 0 && this.unacked[0].seq <= durable) {
      const b = this.unacked.shift()!;
      this.unackedFlows -= b.count;
      this.stats.flowsAcked += b.count;
      this.stats.batchesAcked++;
      const t = this.sentAt.get(b.seq);
      if (t !== undefined) { this.stats.lastAckLatencyMs = Date.now() - t; this.sentAt.delete(b.seq); this.onAckLatency?.(this.stats.lastAckLatencyMs); }
    }
    this.stats.unackedFlows = this.unackedFlows;
    if (ack.resume) {
      this.ready = true;
      this.stats.connected = true;
      this.reconnectDelay = this.opts.reconnectMinMs;
      this.sentUpTo = durable;
      this.log.info({ relay: this.opts.relayAddress, durableSeq: durable, resend: this.unacked.length }, 'connected to relay');
      this.sendPending();
    }
    for (const w of this.ackWaiters.splice(0)) w();
  }

  private onBroken(call: grpc.ClientDuplexStream<IngestMessage, IngestAck>, reason: string): void {
    if (call !== this.call) return;
    this.call = null;
    this.ready = false;
    this.waitingForDrain = false;
    this.stats.connected = false;
    if (this.stopped) return;
    this.stats.reconnects++;
    this.log.warn({ relay: this.opts.relayAddress, reason, retryInMs: this.reconnectDelay, unacked: this.unackedFlows }, 'relay stream broken; reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.opts.reconnectMaxMs);
  }

  /** Writes every unacknowledged batch not yet written on this stream, honouring flow control. */
  private sendPending(): void {
    const call = this.call;
    if (!call || !this.ready || this.waitingForDrain) return;
    for (const b of this.unacked) {
      if (b.seq <= this.sentUpTo) continue;
      this.sentUpTo = b.seq;
      this.stats.batchesSent++;
      this.stats.flowsSent += b.count;
      this.sentAt.set(b.seq, Date.now());
      // Already-encoded bytes pass through the stream's serializer unchanged.
      if (!(call as unknown as grpc.ClientWritableStream<Buffer>).write(b.body)) {
        this.waitingForDrain = true;
        call.once('drain', () => { this.waitingForDrain = false; this.sendPending(); });
        return;
      }
    }
  }
}
