// Ships decoded flows to the relay over flowscope.ingest.v1.Ingest/Push. Each flow is written
// once, straight into the columns of a ClickHouse Native block (collector/blocks.ts, shared with
// the ring), and each finished block is one batch, so the relay only checks and forwards bytes.
// Batches carry per-session sequence numbers; a batch is kept until the relay says it is
// durable, and after a reconnect the relay's resume point decides what is sent again. Memory is bounded: when the unacknowledged backlog is full, new blocks are dropped,
// their flows counted, and reported to the relay as a LostEvent once there is room again.
//
// With a spill queue (`spill`), "full" means the disk budget: the backlog keeps at most
// `maxMemoryBytes` of encoded batches (and `maxUnackedFlows` flows) in memory, and its oldest
// batches move to disk (collector/ship/spill.ts) when it would hold more. The disk thus holds
// the head of the backlog and memory its tail; batches are still sent in sequence order, read
// back from disk a chunk at a time. Only when memory is at its bound and the disk budget is
// spent are new flows dropped. At stop() what is still in memory goes to disk too, and the next
// start replays every earlier session it finds there, each under its own session id and Hello,
// one after the other, before its own session connects (see start()).
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Flow, IngestAck, LostEvent } from '../../proto/types.js';
import { LostEventSource } from '../../proto/types.js';
import { types, encode } from '../../proto/index.js';
import { encodeBatchMessage } from './batch-message.js';
import { DEFAULT_FLOW_BLOCKS, FlowBlocks, type FinishedBlock } from '../blocks.js';
import { BlockPool, type BlockLease } from '../block-pool.js';
import { DEFAULT_INGEST_CHANNEL, IngestChannel, IngestStatusError, splitHostPort, type IngestCall, type IngestTls } from './ingest-call.js';
import { nowTimestamp, msToTimestamp } from '../../common/time.js';
import type { Logger } from '../../common/logger.js';
import { SpillBudget, SpillQueue, chunkPayloadBytes, type SpillChunk, type SpillStats } from './spill.js';

export interface ShipperOptions {
  /**
   * Relay address, or several separated by commas: the collector starts at one picked from its
   * node name (so collectors spread over the relays) and moves to the next when the stream
   * breaks. A DNS name that resolves to several addresses is one entry: each connection tries
   * its addresses in a random order (collector/ship/ingest-call.ts).
   */
  relayAddress: string;
  nodeName: string;
  observerAddress: string;
  version: string;
  maxBatchFlows: number;
  maxBatchDelayMs: number;
  /**
   * Flows sent or waiting but not yet acknowledged; beyond it new flows are dropped (counted).
   * With a spill queue it bounds the flows held in memory; older ones move to disk.
   */
  maxUnackedFlows: number;
  /** With a spill queue: encoded bytes of batches held in memory; older batches move to disk. */
  maxMemoryBytes?: number;
  /** The on-disk spill queue; null or absent: none, a full memory backlog drops new flows. */
  spill?: SpillOptions | null;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** TLS to the relay; absent: plaintext. */
  tls?: IngestTls | null;
  /** This run's session id (default: a new UUID). The collector shares it with its Observer
   * API: rows carry it as flow_session, with their ring cursor as flow_seq. */
  session?: string;
  /** Where flows are written (the collector shares it with its ring, so each flow is written
   * once); its blocks are this shipper's batches. Absent: the shipper writes blocks of its own
   * (maxBatchFlows rows, maxBatchDelayMs). */
  blocks?: FlowBlocks;
}

export interface SpillOptions {
  /** Directory of the queues: one subdirectory per session, a LOCK file for the owning process. */
  dir: string;
  /** Disk budget over all sessions' queues (segment bytes); beyond it new flows are dropped. */
  maxBytes: number;
  /** Spool segment size (default: maxBytes / 16, between 4 KiB and 32 MiB). */
  segmentBytes?: number;
  /** How often spilled chunks are fsynced (default 1000 ms). */
  syncIntervalMs?: number;
}

// 8 MiB of encoded batches: Native blocks measure ≈ 440 bytes a flow (synthetic traffic,
// enriched; 784 as protobuf before), so about 19,000 flows or 9 batches of 2,000: 2 s of a
// 10k flows/s node before anything touches the disk, and what is in flight to a relay that keeps
// up at 30–40k/s from one node (its acks come after a storage insert, a quarter to half a second).
// The memory tier is a hand-off to the disk, not a store: more only delays the spill while
// holding memory, and a collector offered 100k/s is meant to stay under 150 MB RSS (16 MiB
// measured 15–25 MB more at its peak, docs/benchmarks.md). A batch spilled and acknowledged a
// moment later costs one sequential write. `maxUnackedFlows` (200,000) bounds the flow count as
// well (and alone, without a spill queue).
export const DEFAULT_SHIPPER_OPTIONS = {
  // A batch is one block of the flows the collector writes (collector/blocks.ts).
  maxBatchFlows: DEFAULT_FLOW_BLOCKS.maxRows,
  maxBatchDelayMs: DEFAULT_FLOW_BLOCKS.maxDelayMs,
  maxUnackedFlows: 200_000,
  maxMemoryBytes: 8 * 1024 ** 2,
  reconnectMinMs: 200,
  reconnectMaxMs: 5000,
};

/** Largest chunk written to disk at once: bounds both the write and the read-back buffers (two
 * are kept for reuse), so it is about one batch (≈ 880 KB); a larger batch is a chunk alone. */
const MAX_CHUNK_BYTES = 1024 ** 2;
/** A disk write or read that failed is retried after this long. */
const SPILL_RETRY_MS = 1000;
/** Reads of one chunk that fail before its batches are given up (sent as LostEvents instead). */
const MAX_READ_ATTEMPTS = 3;
const SESSION_DIR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Spill directories locked by this process (a second shipper on one directory is refused). */
const lockedDirs = new Set<string>();

// A batch is encoded once, as its flows arrive: the backlog holds the Native block inside the
// IngestMessage bytes (≈0.45 KB a flow) rather than Flow objects (≈4 KB), and a resend after a
// reconnect costs no encoding.
interface PendingBatch {
  seq: number;
  count: number;
  body: Buffer;
  /**
   * The pooled buffer `body` lies in (collector/block-pool.ts): a block's, held by the backlog
   * until the batch is acknowledged or on disk; a chunk's read back from disk, held by the
   * readahead. Each write to a stream or to disk holds it too, until that write is done.
   */
  lease?: BlockLease;
}

export interface ShipperStats {
  batchesSent: number;
  batchesAcked: number;
  flowsSent: number;
  flowsAcked: number;
  flowsDropped: number;
  reconnects: number;
  /** Times the collector moved to another relay of the list after a stream broke. */
  failovers: number;
  /** The relay the stream goes to (or will, while reconnecting). */
  relay: string;
  connected: boolean;
  unackedFlows: number;
  lastAckLatencyMs: number;
  /** Encoded bytes of unacknowledged batches held in memory. */
  memoryBytes: number;
  /** The on-disk spill queue's counters (shared with the replays of earlier runs); null without one. */
  spill: SpillStats | null;
}

/** An earlier run's session, found on disk at start, replayed by a Shipper of its own. */
interface EarlierSession {
  session: string;
  queue: SpillQueue;
  budget: SpillBudget;
}

export class Shipper {
  readonly session: string;
  private readonly relays: string[];
  private relayIndex: number;
  /** Relays tried since the last successful resume: a whole round without one backs off. */
  private triedSinceResume = 0;
  private seq = 0;
  private readonly blocks: FlowBlocks;
  private readonly ownBlocks: boolean;
  private currentLost: LostEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Unacknowledged batches in memory, in sequence order (with a spill queue: the newest ones). */
  private readonly unacked: PendingBatch[] = [];
  private unackedFlows = 0; // in memory and on disk
  private memoryFlows = 0;
  private memoryBytes = 0;
  private ackedSeq = 0; // highest seq the relay acknowledged as durable
  private sentUpTo = 0; // highest seq written on the current stream
  private readonly budget: SpillBudget | null;
  private readonly maxMemoryBytes: number;
  private readonly chunkBytes: number;
  /** Memory allowed while writes to disk catch up; beyond it new flows are dropped. */
  private readonly hardMemoryBytes: number;
  private spill: SpillQueue | null = null;
  private evicting: Promise<boolean> | null = null;
  private spillRetryTimer: NodeJS.Timeout | null = null;
  /** The batches of the chunk last read back from disk, and the read under way. */
  private readahead: PendingBatch[] = [];
  /** The buffer the readahead's chunk was read into. */
  private readaheadLease: BlockLease | null = null;
  /**
   * Buffers chunks are read back into, reused: a new 2–4 MB buffer per chunk read outlived a few
   * scavenges (it is sent, then waits in the socket behind the others) and lingered until a full GC.
   */
  private readonly readBuffers = new BlockPool({ maxFree: 2, minBytes: 0 });
  private reading = false;
  private readFailures = 0;
  private readRetryTimer: NodeJS.Timeout | null = null;
  /** Set for the replay of an earlier run's session: no new flows, done once its disk is empty. */
  private readonly earlier: EarlierSession | null;
  private earlierRefused: string | null = null;
  private replaying: Shipper | null = null;
  private lockFile: string | null = null;
  private droppedSinceReport = 0;
  private droppedFirstMs = 0;
  private channel: IngestChannel | null = null;
  private call: IngestCall | null = null;
  private ready = false;
  private waitingForDrain = false;
  private stopped = false;
  private reconnectDelay: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private ackWaiters: Array<() => void> = [];
  private readonly sentAt = new Map<number, number>();
  /** Called with the send→durable-ack latency of every acknowledged batch (metrics hook). */
  onAckLatency: ((ms: number) => void) | null = null;
  readonly stats: ShipperStats;

  /** Called for each flow dropped because the relay backlog is full (loss accounting). */
  onDrop: ((n: number) => void) | null = null;

  constructor(
    private readonly opts: ShipperOptions,
    private readonly log: Logger,
    earlier?: EarlierSession,
  ) {
    this.reconnectDelay = opts.reconnectMinMs;
    this.relays = parseRelayList(opts.relayAddress);
    this.relayIndex = startIndex(opts.nodeName, this.relays.length);
    this.earlier = earlier ?? null;
    this.session = earlier?.session ?? opts.session ?? randomUUID();
    // An earlier session's replay only sends what is on disk: it takes no new flows.
    this.ownBlocks = earlier !== undefined || opts.blocks === undefined;
    this.blocks = this.ownBlocks ? new FlowBlocks(this.session, { maxRows: opts.maxBatchFlows, maxDelayMs: opts.maxBatchDelayMs }) : opts.blocks!;
    if (this.blocks.session !== this.session) throw new Error(`the blocks' session ${this.blocks.session} is not the shipper's ${this.session}`);
    this.blocks.onBlock((b) => this.ship(b));
    this.blocks.onWriteError = (lost, err) => {
      this.log.error({ err: err.message, lost }, 'flow could not be written to the batch block; batch dropped');
      this.dropped(lost);
    };
    this.budget = earlier?.budget ?? (opts.spill ? new SpillBudget(opts.spill.maxBytes) : null);
    this.maxMemoryBytes = opts.maxMemoryBytes ?? DEFAULT_SHIPPER_OPTIONS.maxMemoryBytes;
    this.chunkBytes = Math.max(1, Math.min(MAX_CHUNK_BYTES, Math.floor(this.maxMemoryBytes / 4)));
    // Room for the spill writes under way: new blocks keep coming while they complete, and a
    // Native block is ≈ 450 B a flow, so a quarter of 8 MiB (the bound until 2026-12-08) was
    // 150 ms of a 30k records/s node, and a first spill write took 110 ms on a loaded host.
    this.hardMemoryBytes = this.maxMemoryBytes + Math.max(2 * this.chunkBytes, Math.floor(this.maxMemoryBytes / 2));
    this.stats = {
      batchesSent: 0,
      batchesAcked: 0,
      flowsSent: 0,
      flowsAcked: 0,
      flowsDropped: 0,
      reconnects: 0,
      failovers: 0,
      relay: this.relays[this.relayIndex],
      connected: false,
      unackedFlows: 0,
      lastAckLatencyMs: 0,
      memoryBytes: 0,
      spill: this.budget?.stats ?? null,
    };
    if (earlier) {
      // Everything is on disk already: continue the session where it left off.
      this.spill = earlier.queue;
      this.seq = earlier.queue.lastSeq;
      this.ackedSeq = earlier.queue.firstSeq - 1;
      this.unackedFlows = earlier.queue.flows;
      this.stats.unackedFlows = this.unackedFlows;
    }
  }

  /**
   * Connects to the relay. With a spill queue it first opens the spill directory (rejecting if
   * another process holds it) and replays the sessions of earlier runs found there, oldest first,
   * each on a stream of its own, before this session's stream opens. Meanwhile new flows queue
   * (and spill) as they would while the relay is away.
   */
  async start(): Promise<void> {
    this.channel = this.newChannel();
    if (!this.opts.spill || this.earlier) {
      this.connect();
      return;
    }
    const earlier = await this.openSpill(this.opts.spill);
    if (this.stopped) {
      // stop() came while the directory was being opened: give it up as stop() would have.
      await this.replayEarlier(earlier);
      await this.spillOnStop(this.spill!);
      return;
    }
    this.evict();
    void this.replayEarlier(earlier).then(() => {
      if (!this.stopped) this.connect();
    });
  }

  /**
   * True when every batch made so far is acknowledged (none waits in memory or on disk), the
   * earlier runs' batches found at start included.
   */
  get idle(): boolean {
    return this.unacked.length === 0 && (this.spill?.empty ?? true) && (this.earlier !== null || (this.budget?.stats.earlierSessions ?? 0) === 0);
  }

  /** Whether `pending` more flows would overflow the backlog (a block is dropped when its last row would). */
  private full(pending: number): boolean {
    if (!this.budget) return this.unackedFlows + pending >= this.opts.maxUnackedFlows;
    const flows = this.memoryFlows + pending;
    if (flows < this.opts.maxUnackedFlows && this.memoryBytes < this.maxMemoryBytes) return false;
    // Memory is at its bound: the oldest batches move to disk while the budget has room and the
    // writes keep up (memory may run half over its bound while they are being written).
    return !this.budget.hasRoomFor(this.chunkBytes) || this.memoryBytes >= this.hardMemoryBytes || flows >= this.opts.maxUnackedFlows * 1.25;
  }

  private dropped(n: number): void {
    if (this.droppedSinceReport === 0) this.droppedFirstMs = Date.now();
    this.droppedSinceReport += n;
    this.stats.flowsDropped += n;
    this.onDrop?.(n);
  }

  /** Adds a flow; `seq` is its ring cursor (per session, in add order), stored as flow_seq.
   * (The collector's ring writes its flows into the shared blocks instead.) */
  add(flow: Flow, seq = 0): void {
    this.blocks.add(flow, seq);
  }

  /** A finished block becomes a batch, or is dropped (counted) when the backlog is full. */
  private ship(b: FinishedBlock): void {
    if (this.full(b.rows - 1)) {
      this.dropped(b.rows);
      return;
    }
    this.send(b.framed, b.rows, b.lease);
  }

  /** Loss seen upstream of the shipper (perf ring, decode queue): forwarded with the next batch. */
  addLost(ev: LostEvent): void {
    this.currentLost.push(ev);
    this.timer ??= setTimeout(() => this.flush(), this.opts.maxBatchDelayMs);
  }

  /** Sends the rows written so far and the loss waiting to be reported. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const seq = this.seq;
    this.blocks.cut();
    if (this.seq === seq) this.send(null, 0);
  }

  /** One batch: `framed` (a block, with room for the framing before it) and the pending loss. */
  private send(framed: Buffer | null, count: number, lease: BlockLease | null = null): void {
    if (this.droppedSinceReport > 0 && !this.full(0)) {
      this.currentLost.push({
        source: LostEventSource.OBSERVER_EVENTS_QUEUE,
        num_events_lost: this.droppedSinceReport,
        first: msToTimestamp(this.droppedFirstMs),
        last: nowTimestamp(),
      });
      this.droppedSinceReport = 0;
    }
    if (count === 0 && this.currentLost.length === 0) return;
    const seq = ++this.seq;
    const batch: PendingBatch = { seq, count, body: encodeBatchMessage(seq, this.currentLost, framed) };
    if (lease !== null && framed !== null && batch.body.buffer === framed.buffer) {
      lease.hold();
      batch.lease = lease;
    }
    this.currentLost = [];
    this.unacked.push(batch);
    this.unackedFlows += batch.count;
    this.memoryFlows += batch.count;
    this.memoryBytes += batch.body.length;
    this.updateStats();
    this.evict();
    this.sendPending();
  }

  /** Flushes and waits until the relay acknowledged everything, or the timeout passed. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.flush();
    const deadline = Date.now() + timeoutMs;
    while (!this.idle && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.ackWaiters.push(r);
        setTimeout(r, Math.min(200, deadline - Date.now()));
      });
    }
    return this.idle;
  }

  /**
   * Closes the stream. With a spill queue, flows not yet acknowledged are written to disk first
   * (within the disk budget; beyond it they are counted as dropped), for the next start to replay.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ownBlocks) this.blocks.close();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.spillRetryTimer) clearTimeout(this.spillRetryTimer);
    if (this.readRetryTimer) clearTimeout(this.readRetryTimer);
    this.call?.end();
    this.call?.cancel();
    this.call = null;
    this.ready = false;
    this.stats.connected = false;
    this.channel?.close();
    for (const w of this.ackWaiters.splice(0)) w();
    await this.replaying?.stop();
    if (this.spill && !this.earlier) await this.spillOnStop(this.spill);
  }

  private updateStats(): void {
    this.stats.unackedFlows = this.unackedFlows;
    this.stats.memoryBytes = this.memoryBytes;
  }

  /** Locks the spill directory, opens this session's queue and indexes earlier runs' queues. */
  private async openSpill(o: SpillOptions): Promise<EarlierSession[]> {
    const root = path.resolve(o.dir);
    await fs.mkdir(root, { recursive: true });
    await this.lock(root);
    const budget = this.budget!;
    const queueOptions = (dir: string) => ({
      dir,
      segmentBytes: o.segmentBytes ?? Math.max(4096, Math.min(32 * 1024 ** 2, Math.floor(o.maxBytes / 16))),
      syncIntervalMs: o.syncIntervalMs ?? 1000,
    });
    const found: Array<{ name: string; mtimeMs: number }> = [];
    for (const e of await fs.readdir(root, { withFileTypes: true })) {
      if (e.isDirectory() && SESSION_DIR.test(e.name) && e.name !== this.session)
        found.push({ name: e.name, mtimeMs: (await fs.stat(path.join(root, e.name))).mtimeMs });
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    const earlier: EarlierSession[] = [];
    for (const { name } of found) {
      const dir = path.join(root, name);
      try {
        const queue = await SpillQueue.open(budget, queueOptions(dir), this.log);
        if (queue.empty) {
          await queue.destroy();
          continue;
        }
        earlier.push({ session: name, queue, budget });
      } catch (err) {
        budget.stats.errors++;
        this.log.error({ dir, err: (err as Error).message }, 'spill of an earlier run is unreadable; discarded');
        await fs.rm(dir, { recursive: true, force: true });
      }
    }
    budget.stats.earlierSessions = earlier.length;
    if (earlier.length > 0) {
      this.log.info(
        { sessions: earlier.length, batches: budget.stats.queueBatches, flows: budget.stats.queueFlows, bytes: budget.stats.queueBytes },
        'spill holds batches of earlier runs; replaying them first',
      );
    }
    this.spill = await SpillQueue.open(budget, queueOptions(path.join(root, this.session)), this.log);
    this.spill.onFreed = () => this.evict();
    return earlier;
  }

  /** One process per spill directory: a LOCK file holds the owner's pid. */
  private async lock(root: string): Promise<void> {
    if (lockedDirs.has(root)) throw new Error(`spill directory ${root} is in use by another shipper of this process`);
    const file = path.join(root, 'LOCK');
    try {
      await fs.writeFile(file, `${process.pid}\n`, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await fs.readFile(file, 'utf8')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) throw new Error(`spill directory ${root} is in use by process ${pid}`);
      await fs.writeFile(file, `${process.pid}\n`);
    }
    lockedDirs.add(root);
    this.lockFile = file;
  }

  /**
   * Replays earlier runs' sessions one after the other. A session the relay refuses (a sequence
   * gap: its storage no longer has what it acknowledged) is dropped, counted like any drop; a
   * stop midway leaves what is not acknowledged yet on disk for the next start.
   */
  private async replayEarlier(sessions: EarlierSession[]): Promise<void> {
    for (const e of sessions) {
      try {
        if (this.stopped) {
          e.budget.stats.earlierSessions--;
          await e.queue.close();
          continue;
        }
        const replay = new Shipper({ ...this.opts, spill: null }, this.log.child({ earlierSession: e.session }), e);
        // Batches unreadable on disk: already reported to the relay (as LostEvents in their place).
        replay.onDrop = (n) => {
          this.stats.flowsDropped += n;
          this.onDrop?.(n);
        };
        this.replaying = replay;
        this.log.info({ session: e.session, batches: e.queue.batches, flows: e.queue.flows }, 'replaying the spill of an earlier run');
        await replay.start();
        const refused = await replay.untilReplayed();
        await replay.stop();
        this.replaying = null;
        if (refused === null && !replay.idle) {
          e.budget.stats.earlierSessions--;
          await e.queue.close();
          continue;
        } // stopped midway
        if (refused !== null) {
          this.log.warn({ session: e.session, flows: e.queue.flows, reason: refused }, "relay refused an earlier run's session; its spilled flows are dropped");
          this.dropped(e.queue.flows);
        } else {
          this.log.info({ session: e.session, flows: replay.stats.flowsAcked }, 'spill of an earlier run replayed');
        }
        e.budget.stats.earlierSessions--;
        await e.queue.destroy();
      } catch (err) {
        e.budget.stats.errors++;
        this.log.error(
          { session: e.session, err: (err as Error).message },
          'replaying the spill of an earlier run failed; it stays on disk for the next start',
        );
        if (this.replaying !== null) {
          this.replaying = null;
          e.budget.stats.earlierSessions--;
        }
        await e.queue.close().catch(() => undefined);
      }
    }
  }

  /** For an earlier session's replay: resolves with null once everything is acknowledged (or it was stopped), or why the relay refused it. */
  private async untilReplayed(): Promise<string | null> {
    while (!this.idle && this.earlierRefused === null && !this.stopped) {
      await new Promise<void>((r) => {
        this.ackWaiters.push(r);
        setTimeout(r, 200);
      });
    }
    return this.earlierRefused;
  }

  /** Writes what is left in memory to disk, closes the queue, and gives the directory up. */
  private async spillOnStop(spill: SpillQueue): Promise<void> {
    this.flush();
    await this.evicting;
    const chunks = this.takeChunks(true);
    if (chunks.length > 0) await this.writeChunks(spill, chunks);
    if (this.memoryFlows > 0) {
      this.log.warn({ flows: this.memoryFlows }, 'could not spill every unacknowledged flow at shutdown; they are dropped');
      this.dropped(this.memoryFlows);
    }
    const empty = spill.empty;
    if (empty) await spill.destroy();
    else await spill.close();
    if (!empty) this.log.info({ session: this.session, batches: spill.batches, flows: spill.flows }, 'unacknowledged batches kept on disk for the next start');
    if (this.lockFile) {
      await fs.rm(this.lockFile, { force: true });
      lockedDirs.delete(path.dirname(this.lockFile));
      this.lockFile = null;
    }
  }

  /**
   * The oldest in-memory batches to write to disk, as chunks of up to `chunkBytes`: enough to
   * bring memory a chunk under its bound (or, with `all`, everything), as far as the disk budget
   * has room.
   */
  private takeChunks(all: boolean): PendingBatch[][] {
    const chunks: PendingBatch[][] = [];
    const low = this.maxMemoryBytes - this.chunkBytes;
    let bytes = this.memoryBytes;
    let flows = this.memoryFlows;
    let planned = 0;
    let chunk: PendingBatch[] = [];
    let chunkBytes = 0;
    const close = (): boolean => {
      const size = chunkPayloadBytes(chunk);
      if (!this.budget!.hasRoomFor(planned + size)) return false;
      planned += size + 64;
      chunks.push(chunk);
      chunk = [];
      chunkBytes = 0;
      return true;
    };
    for (const b of this.unacked) {
      if (!all && bytes <= low && flows <= this.opts.maxUnackedFlows) break;
      if (chunk.length > 0 && chunkBytes + b.body.length > this.chunkBytes && !close()) return chunks;
      chunk.push(b);
      chunkBytes += b.body.length;
      bytes -= b.body.length;
      flows -= b.count;
    }
    if (chunk.length > 0) close();
    return chunks;
  }

  /**
   * Moves the oldest batches to disk while memory holds more than its bound, all that is over
   * it in one write: one disk write per event-loop turn keeps up however busy the loop is.
   */
  private evict(): void {
    const spill = this.spill;
    if (!spill || this.earlier || this.evicting || this.stopped || this.spillRetryTimer) return;
    if (this.memoryBytes <= this.maxMemoryBytes && this.memoryFlows <= this.opts.maxUnackedFlows) return;
    // No room on disk: memory stays at its bound and new flows are dropped (full()).
    const chunks = this.takeChunks(false);
    if (chunks.length === 0) return;
    this.evicting = this.writeChunks(spill, chunks);
    void this.evicting.then((ok) => {
      this.evicting = null;
      if (ok) this.evict();
      else if (!this.stopped)
        this.spillRetryTimer = setTimeout(() => {
          this.spillRetryTimer = null;
          this.evict();
        }, SPILL_RETRY_MS);
    });
  }

  /** Writes batches to disk and lets go of them in memory; false if a write failed (those stay in memory). */
  private async writeChunks(spill: SpillQueue, chunks: PendingBatch[][]): Promise<boolean> {
    // The write reads the bodies: their buffers stay theirs until it is done.
    for (const c of chunks) for (const b of c) b.lease?.hold();
    let result: Awaited<ReturnType<SpillQueue['write']>>;
    try {
      result = await spill.write(chunks);
    } finally {
      for (const c of chunks) for (const b of c) b.lease?.release();
    }
    const { written, error } = result;
    if (written > 0) {
      const last = chunks[written - 1][chunks[written - 1].length - 1].seq;
      // Acknowledgements may have taken some of them out of memory while they were being written.
      while (this.unacked.length > 0 && this.unacked[0].seq <= last) {
        // On disk now (a write to the stream under way still holds its buffer).
        this.forgetHead().lease?.release();
      }
      spill.ackThrough(this.ackedSeq);
      this.updateStats();
    }
    if (error === null) return true;
    this.budget!.stats.errors++;
    this.log.warn(
      { err: error.message, batches: chunks.slice(written).reduce((n, c) => n + c.length, 0) },
      'spill: writing to disk failed; batches stay in memory',
    );
    return false;
  }

  /** The acknowledged head batch leaves memory (a write still under way holds its buffer). */
  private forgetAcked(): PendingBatch {
    const b = this.forgetHead();
    b.lease?.release();
    return b;
  }

  private forgetHead(): PendingBatch {
    const b = this.unacked.shift()!;
    this.memoryFlows -= b.count;
    this.memoryBytes -= b.body.length;
    return b;
  }

  private newChannel(): IngestChannel {
    return new IngestChannel(this.relays[this.relayIndex], { ...DEFAULT_INGEST_CHANNEL, tls: this.opts.tls ?? null });
  }

  /** Moves to the next relay of the list (a new channel; the old one is closed). */
  private failover(): void {
    this.relayIndex = (this.relayIndex + 1) % this.relays.length;
    this.channel?.close();
    this.channel = this.newChannel();
    this.stats.failovers++;
    this.stats.relay = this.relays[this.relayIndex];
  }

  private connect(): void {
    const channel = this.channel;
    if (this.stopped || !channel) return;
    this.ready = false;
    this.sentUpTo = 0;
    channel.push().then(
      (call) => {
        if (this.stopped || channel !== this.channel) call.cancel();
        else this.opened(call);
      },
      (err: Error) => {
        if (!this.stopped && channel === this.channel) this.broken(err instanceof IngestStatusError ? err.details : err.message);
      },
    );
  }

  private opened(call: IngestCall): void {
    this.call = call;
    call.on('ack', (ack: IngestAck) => this.onAck(call, ack));
    call.on('error', (err: IngestStatusError) => {
      // An earlier run's session the relay will not take (a sequence gap: storage lost what it
      // had acknowledged) is given up; this session keeps retrying as it always did.
      if (this.earlier && (err.code === grpc.status.INVALID_ARGUMENT || err.code === grpc.status.FAILED_PRECONDITION))
        this.earlierRefused = err.details || err.message;
      this.onBroken(call, err.details || err.message);
    });
    call.on('end', () => this.onBroken(call, 'stream ended by relay'));
    call.writeMessage({
      hello: {
        node_name: this.opts.nodeName,
        session_id: this.session,
        observer_address: this.opts.observerAddress,
        version: this.opts.version,
        started: nowTimestamp(),
      },
    });
  }

  private onAck(call: IngestCall, ack: IngestAck): void {
    if (call !== this.call) return;
    const durable = ack.durable_seq ?? 0;
    // Batches up to `durable` are in memory or on disk (the older ones): let go of them in order.
    for (let seq = this.ackedSeq + 1, to = Math.min(durable, this.seq); seq <= to; seq++) {
      const m = this.unacked[0];
      const count = m !== undefined && m.seq === seq ? this.forgetAcked().count : this.spill?.countOf(seq);
      this.ackedSeq = seq;
      if (count === undefined) continue;
      this.unackedFlows -= count;
      this.stats.flowsAcked += count;
      this.stats.batchesAcked++;
      const t = this.sentAt.get(seq);
      if (t !== undefined) {
        this.stats.lastAckLatencyMs = Date.now() - t;
        this.sentAt.delete(seq);
        this.onAckLatency?.(this.stats.lastAckLatencyMs);
      }
    }
    if (this.spill) {
      this.spill.ackThrough(this.ackedSeq);
      const ra = this.readahead;
      if (ra.length > 0 && ra[ra.length - 1].seq <= this.ackedSeq) this.setReadahead([], null);
    }
    this.updateStats();
    // Room again after drops: report them soon, not only with the next flow.
    if (this.droppedSinceReport > 0 && !this.full(0)) this.timer ??= setTimeout(() => this.flush(), this.opts.maxBatchDelayMs);
    if (ack.resume) {
      this.ready = true;
      this.stats.connected = true;
      this.reconnectDelay = this.opts.reconnectMinMs;
      this.sentUpTo = durable;
      this.triedSinceResume = 0;
      this.log.info({ relay: this.relays[this.relayIndex], durableSeq: durable, resend: this.unacked.length }, 'connected to relay');
      this.sendPending();
    }
    for (const w of this.ackWaiters.splice(0)) w();
  }

  private onBroken(call: IngestCall, reason: string): void {
    if (call !== this.call) return;
    this.call = null;
    this.broken(reason);
  }

  /** The stream broke, or could not be opened: reconnect (to the next relay of a list). */
  private broken(reason: string): void {
    this.ready = false;
    this.waitingForDrain = false;
    this.stats.connected = false;
    if (this.stopped) return;
    this.stats.reconnects++;
    for (const w of this.ackWaiters.splice(0)) w();
    if (this.earlierRefused !== null) return;
    const from = this.relays[this.relayIndex];
    let delay = this.reconnectDelay;
    if (this.relays.length > 1) {
      // The next relay at once; back off only after a whole round found none.
      this.failover();
      this.triedSinceResume++;
      if (this.triedSinceResume < this.relays.length) delay = this.opts.reconnectMinMs;
      else this.triedSinceResume = 0;
    }
    this.log.warn(
      { relay: from, next: this.relays[this.relayIndex], reason, retryInMs: delay, unacked: this.unackedFlows },
      'relay stream broken; reconnecting',
    );
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    if (delay === this.reconnectDelay) this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.opts.reconnectMaxMs);
  }

  /** Writes every unacknowledged batch not yet written on this stream, honouring flow control. */
  private sendPending(): void {
    const call = this.call;
    if (!call || !this.ready || this.waitingForDrain) return;
    for (;;) {
      const b = this.nextToSend(Math.max(this.sentUpTo, this.ackedSeq) + 1);
      if (b === undefined) return;
      this.sentUpTo = b.seq;
      this.stats.batchesSent++;
      this.stats.flowsSent += b.count;
      this.sentAt.set(b.seq, Date.now());
      const lease = b.lease;
      lease?.hold();
      if (!call.write(b.body, lease && ((err) => (err ? lease.abandon() : lease.release())))) {
        this.waitingForDrain = true;
        call.once('drain', () => {
          this.waitingForDrain = false;
          this.sendPending();
        });
        return;
      }
    }
  }

  /**
   * The first unacknowledged batch numbered `seq` or later: from memory, or from the chunk last
   * read back from disk. Undefined when there is none, or while the chunk holding it is being
   * read (sendPending runs again once it is in).
   */
  private nextToSend(seq: number): PendingBatch | undefined {
    const m = this.unacked[0];
    if (m !== undefined && seq >= m.seq) return this.unacked[seq - m.seq];
    const spill = this.spill;
    const chunk = spill?.chunkFrom(seq);
    if (!spill || !chunk) return m;
    const want = Math.max(seq, chunk.first);
    const ra = this.readahead;
    if (ra.length > 0 && ra[0].seq <= want && want <= ra[ra.length - 1].seq) {
      this.budget!.stats.replayedBatches++;
      return ra[want - ra[0].seq];
    }
    if (!this.reading && !this.readRetryTimer) void this.readChunk(spill, chunk);
    return undefined;
  }

  /** Reads a chunk back into `readahead`; retried on failure, then sent as LostEvents. */
  private async readChunk(spill: SpillQueue, chunk: SpillChunk): Promise<void> {
    this.reading = true;
    let lease: BlockLease | null = null;
    try {
      const batches = await spill.read(chunk, (n) => (lease = this.readBuffers.lease(n)).bytes(n));
      if (batches.length === 0 && chunk.last > this.ackedSeq) throw new Error('spill chunk missing on disk');
      this.readFailures = 0;
      for (const b of batches as PendingBatch[]) b.lease = lease ?? undefined;
      this.setReadahead(batches, lease);
      lease = null;
    } catch (err) {
      this.budget!.stats.errors++;
      if (++this.readFailures < MAX_READ_ATTEMPTS) {
        this.log.warn({ err: (err as Error).message, first: chunk.first, last: chunk.last }, 'spill: reading back from disk failed; retrying');
        this.readRetryTimer = setTimeout(() => {
          this.readRetryTimer = null;
          this.sendPending();
        }, SPILL_RETRY_MS);
        return;
      }
      // Unreadable: its batches become LostEvents for their flows, so the sequence has no gap.
      this.readFailures = 0;
      let flows = 0;
      this.setReadahead(
        Array.from(chunk.counts, (count, i) => {
          flows += count;
          return this.lossBatch(chunk.first + i, count);
        }),
        null,
      );
      this.log.error(
        { err: (err as Error).message, first: chunk.first, last: chunk.last, flows },
        'spill: batches unreadable on disk; reported to the relay as lost',
      );
      this.stats.flowsDropped += flows;
      this.onDrop?.(flows);
    } finally {
      this.reading = false;
      // Not read whole: nothing refers to it (it may be mid-read if the read failed: not reused).
      (lease as BlockLease | null)?.abandon();
    }
    this.sendPending();
  }

  /** The batches sent from disk next, and the buffer they lie in (the readahead's hold on it). */
  private setReadahead(batches: PendingBatch[], lease: BlockLease | null): void {
    this.readaheadLease?.release();
    this.readahead = batches;
    this.readaheadLease = lease;
  }

  /** A batch carrying only a LostEvent for `count` flows, sent in place of an unreadable one. */
  private lossBatch(seq: number, count: number): PendingBatch {
    const now = nowTimestamp();
    const lost: LostEvent = { source: LostEventSource.OBSERVER_EVENTS_QUEUE, num_events_lost: count, first: now, last: now };
    return { seq, count, body: encode(types.IngestMessage, { batch: { seq, lost_events: [lost] } }) };
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `host:port[,host:port…]` as a list (blanks and empty entries dropped; at least one). */
export function parseRelayList(v: string): string[] {
  const list = v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
  if (list.length === 0) throw new Error(`invalid relay list "${v}": host:port[,host:port…]`);
  for (const a of list) splitHostPort(a);
  return list;
}

/** Where a collector starts in the relay list: a hash of its node name (FNV-1a), so a cluster's
 * collectors spread over the relays and each keeps starting at the same one. */
export function startIndex(nodeName: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < nodeName.length; i++) h = Math.imul(h ^ nodeName.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}
