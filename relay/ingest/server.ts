// The relay side of flowscope.ingest.v1.Ingest/Push: one bidirectional stream per collector.
// A batch's rows arrive as one ClickHouse Native block built on the node; the relay checks its
// header and structure (never decoding a flow) and forwards the bytes. A block that fails the
// check is refused with a clear log line and counted, its rows counted as lost, and the stream
// goes on: its sequence number is acknowledged once the batches before it are durable.
import * as grpc from '@grpc/grpc-js';
import type { FlowBatch, IngestAck, IngestMessage, LostEvent } from '../../proto/types.js';
import { validateNativeBlock } from '../../schema/native/validate.js';
import { NativeBlockError } from '../../schema/native/error.js';
import { FLOW_NATIVE_COLUMNS } from '../../schema/native/types.js';
import { LEGACY_FLOW_NATIVE_COLUMNS, withEmptyProvenance } from '../../schema/native/flow-block.js';
import { flowsToBlock } from '../sinks/sink.js';
import type { Logger } from '../../common/logger.js';
import type { IngestBatcher, BatchPart } from './batcher.js';
import type { NodeRegistry } from '../nodes.js';

export type IngestCall = grpc.ServerDuplexStream<IngestMessage, IngestAck>;

export interface IngestServerDeps {
  batcher: IngestBatcher;
  nodes: NodeRegistry;
  /** Highest sequence number storage holds for a session (0 if none). */
  durableSeq(session: string): Promise<number>;
  onLostEvents(node: string, events: LostEvent[]): void;
  /** A block failed the check (its rows are lost). */
  onRejectedBlock?(node: string, reason: string): void;
  /**
   * Accept a collector resuming above the resume point (Kafka mode: batches acked by an earlier
   * relay run may still be on their way from Kafka to storage, so storage's seq lags).
   */
  tolerateResumeGaps?: boolean;
  /** mTLS: why this call's client certificate may not push for `node` (null: it may). */
  authorize?(call: IngestCall, node: string): string | null;
  /** Largest block accepted, in rows and bytes (default DEFAULT_BLOCK_LIMITS). */
  blockLimits?: BlockLimits;
  log: Logger;
}

export interface BlockLimits {
  maxRows: number;
  maxBytes: number;
}

/** Collectors send batches of a few thousand rows (2,000 by default, ≈0.45 KB a row). */
export const DEFAULT_BLOCK_LIMITS: BlockLimits = { maxRows: 100_000, maxBytes: 64 * 1024 * 1024 };

export interface IngestStats {
  streams: number;
  batchesReceived: number;
  flowsReceived: number;
  duplicateBatches: number;
  protocolErrors: number;
  resumeGaps: number;
  /** Blocks refused by the check, by NativeBlockError reason. */
  rejectedBlocks: Record<string, number>;
  /** Batches of protobuf flows (collectors before 0.2), converted into a block here. */
  legacyBatches: number;
  /** Blocks in the layout of collectors before the provenance columns, completed by the relay. */
  legacyBlocks: number;
}

interface StreamState {
  call: IngestCall;
  node: string;
  session: string;
  acceptedSeq: number;
  ackedSeq: number;
  resumed: boolean;
}

export class IngestServer {
  private readonly bySession = new Map<string, StreamState>();
  readonly stats: IngestStats = {
    streams: 0,
    batchesReceived: 0,
    flowsReceived: 0,
    duplicateBatches: 0,
    protocolErrors: 0,
    resumeGaps: 0,
    rejectedBlocks: {},
    legacyBatches: 0,
    legacyBlocks: 0,
  };
  private readonly limits: BlockLimits;

  constructor(private readonly deps: IngestServerDeps) {
    this.limits = deps.blockLimits ?? DEFAULT_BLOCK_LIMITS;
  }

  /** Called by the batcher once parts are durable: acknowledge them to their collectors. */
  acknowledge(parts: readonly BatchPart[]): void {
    for (const p of parts) {
      this.deps.nodes.recordDurable(p.node, p.rows);
      const s = this.bySession.get(p.session);
      if (s && p.seq > s.ackedSeq) {
        s.ackedSeq = p.seq;
        s.call.write({ durable_seq: p.seq });
      }
    }
  }

  /**
   * Ends the streams of sessions another relay took over (shared store): this relay may not
   * store their batches any more, so the collector, if it still talks to us, must resume
   * elsewhere (or here, after claiming the session again).
   */
  release(sessions: readonly string[]): void {
    for (const session of sessions) {
      const s = this.bySession.get(session);
      if (!s) continue;
      this.bySession.delete(session);
      this.deps.log.warn({ node: s.node, session }, 'session claimed by another relay; closing its stream');
      s.call.emit(
        'error',
        Object.assign(new Error('session moved to another relay'), { code: grpc.status.ABORTED, details: 'session moved to another relay' }),
      );
    }
  }

  readonly handle = (call: IngestCall): void => {
    let state: StreamState | null = null;
    this.stats.streams++;
    const fail = (code: grpc.status, message: string) => {
      this.stats.protocolErrors++;
      this.deps.log.warn({ node: state?.node, message }, 'ingest stream rejected');
      call.emit('error', Object.assign(new Error(message), { code, details: message }));
    };
    const finish = () => {
      if (!state) return;
      if (this.bySession.get(state.session) === state) this.bySession.delete(state.session);
      this.deps.nodes.disconnect(state.node, state.session);
      this.deps.log.info({ node: state.node, session: state.session }, 'collector disconnected');
      state = null;
    };
    call.on('error', finish);
    call.on('close', finish);
    call.on('cancelled', finish);
    call.on('end', () => {
      finish();
      call.end();
    });

    let helloPending = false;
    call.on('data', (msg: IngestMessage) => {
      if (msg.hello) {
        if (state || helloPending) return fail(grpc.status.FAILED_PRECONDITION, 'hello sent twice');
        const { node_name: node = '', session_id: session = '', observer_address = '', version = '' } = msg.hello;
        if (!node || !session) return fail(grpc.status.INVALID_ARGUMENT, 'hello needs node_name and session_id');
        // Counted and logged by the authorizer, not as a protocol error.
        const refused = this.deps.authorize?.(call, node) ?? null;
        if (refused !== null) return call.emit('error', Object.assign(new Error(refused), { code: grpc.status.PERMISSION_DENIED, details: refused }));
        helloPending = true;
        call.pause();
        this.deps.durableSeq(session).then(
          (seq) => {
            helloPending = false;
            state = { call, node, session, acceptedSeq: seq, ackedSeq: seq, resumed: false };
            this.bySession.set(session, state);
            this.deps.nodes.connect(node, session, observer_address, version);
            this.deps.log.info({ node, session, durableSeq: seq, observer: observer_address }, 'collector connected');
            call.write({ durable_seq: seq, resume: true });
            call.resume();
          },
          (err: Error) => fail(grpc.status.UNAVAILABLE, `storage unavailable: ${err.message}`),
        );
        return;
      }
      const batch = msg.batch;
      if (!batch) return fail(grpc.status.INVALID_ARGUMENT, 'empty ingest message');
      if (!state) return fail(grpc.status.FAILED_PRECONDITION, 'batch before hello');
      const seq = batch.seq ?? 0;
      this.stats.batchesReceived++;
      if (seq <= state.acceptedSeq) {
        // A resend of something already accepted (after a reconnect): never store it twice.
        this.stats.duplicateBatches++;
        if (seq <= state.ackedSeq) call.write({ durable_seq: state.ackedSeq });
        return;
      }
      if (seq !== state.acceptedSeq + 1 && this.deps.tolerateResumeGaps && state.acceptedSeq === state.ackedSeq && !state.resumed) {
        // The collector's first batch after Hello: it holds acks we do not know of (see deps).
        this.stats.resumeGaps++;
        this.deps.log.info(
          { node: state.node, session: state.session, resumePoint: state.acceptedSeq, firstSeq: seq },
          'collector resumes above the resume point',
        );
        state.acceptedSeq = seq - 1;
        state.ackedSeq = seq - 1;
      }
      state.resumed = true;
      if (seq !== state.acceptedSeq + 1) return fail(grpc.status.INVALID_ARGUMENT, `sequence gap: expected ${state.acceptedSeq + 1}, got ${seq}`);
      state.acceptedSeq = seq;
      const { block, rows } = this.rowsOf(batch, state.node, seq);
      this.stats.flowsReceived += rows;
      if (batch.lost_events?.length) this.deps.onLostEvents(state.node, batch.lost_events);
      this.deps.batcher.add({ session: state.session, node: state.node, seq, block, rows });
      if (!this.deps.batcher.hasRoom) {
        // Backpressure: stop reading; gRPC flow control then slows the collector down.
        call.pause();
        this.deps.batcher.waitForRoom().then(() => call.resume());
      }
    });
  };

  /** The batch's block once checked (an old collector's flows converted into one), or no rows
   * when it has none or its block is refused (counted, logged, reported as lost). */
  private rowsOf(batch: FlowBatch, node: string, seq: number): { block: Buffer | null; rows: number } {
    const raw = batch.block;
    if (raw === undefined || raw.length === 0) {
      if (!batch.flows || batch.flows.length === 0) return { block: null, rows: 0 };
      this.stats.legacyBatches++;
      return { block: flowsToBlock(batch.flows), rows: batch.flows.length };
    }
    const block = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    try {
      try {
        return { block, rows: validateNativeBlock(block, FLOW_NATIVE_COLUMNS, this.limits).rows };
      } catch (err) {
        // A collector from before the provenance columns (a rolling upgrade): its layout is
        // checked as such, then the two columns are appended empty (its flows are history only).
        if (!(err instanceof NativeBlockError) || err.reason !== 'columns') throw err;
        const { rows } = validateNativeBlock(block, LEGACY_FLOW_NATIVE_COLUMNS, this.limits);
        this.stats.legacyBlocks++;
        return { block: withEmptyProvenance(block, rows), rows };
      }
    } catch (err) {
      if (!(err instanceof NativeBlockError)) throw err;
      this.stats.rejectedBlocks[err.reason] = (this.stats.rejectedBlocks[err.reason] ?? 0) + 1;
      this.deps.log.warn({ node, seq, bytes: block.length, reason: err.reason, err: err.message }, 'ingest block refused; its rows are lost');
      this.deps.onRejectedBlock?.(node, err.reason);
      return { block: null, rows: 0 };
    }
  }
}
