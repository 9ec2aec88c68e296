// One load-test run: a relay (embedded chDB in a temporary directory) and N synthetic collector
// processes on loopback, a follow client and a queryable probe, for a warm-up and a measured
// window; then an orderly stop (sources first, collectors drain, the relay flushes) and a
// report of throughput, loss per stage, latency, CPU/RSS per process and bytes per flow.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor, waitHealthy } from '../testing/harness.js';
import { ChildSet, type Child } from './children.js';
import {
  parseStartupThreads,
  readProcSample,
  readThreadCpu,
  summarizeUsage,
  threadUsage,
  type ProcSample,
  type ProcUsage,
  type ThreadUsage,
} from './proc-stats.js';
import { percentiles, type Percentiles } from './percentiles.js';
import { FollowProbe } from './follow-probe.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';
import type { CollectorSample, CollectorMemory } from './collector-proc.js';
import type { RelayFinal, RelaySample } from './relay-proc.js';
import { DEFAULT_BATCHER_OPTIONS } from '../relay/ingest/batcher.js';
import { COLLECTOR_ENV, COLLECTOR_NODE_FLAGS } from '../collector/heap.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const COLLECTOR_JS = path.join(HERE, 'collector-proc.js');
const RELAY_JS = path.join(HERE, 'relay-proc.js');
/** Preloaded into both, so their thread table tells V8's threads from libuv's pool. */
const STARTUP_THREADS = ['--require', path.join(HERE, 'startup-threads.cjs')];

export interface LoadtestOptions {
  nodes: number;
  /** Total records/s offered, split evenly over the collectors. */
  rate: number;
  durationS: number;
  warmupS: number;
  /** Rows per storage insert (the relay's --batch-rows). */
  batchRows: number;
  /** The relay's --flush-interval (ms; default the CLI's, DEFAULT_BATCHER_OPTIONS). */
  flushIntervalMs?: number;
  /** Keep the chDB data directory (its path is in the report). */
  keep?: boolean;
  /** Write a V8 CPU profile of every process here and summarise it in the report. */
  profileDir?: string;
  /** How long collectors may take, after their sources stopped, to get every flow acknowledged. */
  drainTimeoutMs?: number;
  /** Queryable-probe period in ms (default 250; 0 = no probe, to measure what the probe costs). */
  probeIntervalMs?: number;
  /** Collectors spill their backlog to disk, as `flowscope collector` does by default (default
   * true); false: `--spill-dir none`, the backlog bounded in memory by --max-unacked alone. */
  spill?: boolean;
  /** Node flags for the collector processes after the shipped ones (COLLECTOR_NODE_FLAGS, which
   * they override: V8 takes a flag's last value); default none. */
  collectorNodeFlags?: readonly string[];
  log?: (msg: string) => void;
}

export interface ProcessReport extends ProcUsage {
  name: string;
  pid: number;
  /** CPU time per flow it handled in the window (relay: per stored flow; collector: per record
   * emitted): far less sensitive to other load on the machine than the rates are. */
  cpu_us_per_flow: number;
  /** CPU per thread group over the window (main = the JavaScript thread). */
  threads: ThreadUsage[];
  /** Collectors: process.memoryUsage() at the sample of highest RSS in the run. */
  memory_at_peak_mb?: CollectorMemory;
  profile?: ProfileSummary;
}

export interface LoadtestReport {
  config: {
    nodes: number;
    rate_records_per_s: number;
    per_node_records_per_s: number;
    duration_s: number;
    warmup_s: number;
    batch_rows: number;
    flush_interval_ms: number;
    spill: boolean;
    /** Node flags the collectors ran with (the shipped ones, then --collector-node-flags). */
    collector_node_flags: string[];
    /** Environment the collectors start with beside the load test's (COLLECTOR_ENV). */
    collector_env: Readonly<Record<string, string>>;
  };
  window: { start: string; seconds: number };
  /** Rates over the measured window. */
  throughput: {
    offered_records_per_s: number;
    emitted_records_per_s: number;
    decoded_flows_per_s: number;
    stored_flows_per_s: number;
    acked_flows_per_s: number;
  };
  /** Whole-run counts (warm-up, window and drain). */
  /** records_offered: by the sources, lost in their ring included; records_emitted: read by the pipeline. */
  totals: {
    records_offered: number;
    records_emitted: number;
    flows_decoded: number;
    flows_sent: number;
    flows_received_by_relay: number;
    flows_stored: number;
  };
  /** Records/flows lost per stage over the whole run; every figure is a count some process reported. */
  loss: {
    /** Lost in the (perf or synthetic) ring: the decode queue had no room, or the kernel overwrote them. */
    perf_ring: number;
    /** Dropped by the decode queue (its record or byte bound reached). */
    decode_queue: number;
    decode: { truncated: number; unknown_type: number; unknown_version: number; bad_length: number; bad_packet: number; not_a_flow: number; total: number };
    shipper_dropped: number;
    /** Unacknowledged when a collector's drain timed out at the end, and never stored. */
    shipper_abandoned_at_exit: number;
    /** Accepted by the relay, not stored. */
    relay_not_stored: number;
    /** Offered − stored − every counted loss: must be 0 (non-zero means silent loss or duplicates). */
    unaccounted: number;
    total: number;
  };
  accounting_closes: boolean;
  zero_loss: boolean;
  /** Emitted ≥ 95% of offered; backlog grew by ≤ 5% of the window's flows and ended ≤ 2 s of traffic. */
  kept_up: boolean;
  sustained: boolean;
  backlog_at_window_start: number;
  backlog_at_window_end: number;
  latency_ms: { follow: Percentiles; queryable: Percentiles; ack: Percentiles };
  /** The relay's own counters: insert errors (retried), duplicate batches (resends), protocol
   * errors, and the longest stretch of the window in which no insert completed. */
  relay: { insert_errors: number; duplicate_batches: number; protocol_errors: number; longest_insert_gap_s: number };
  /** Batches the collectors spilled to disk over the run (written once each). */
  collectors_spilled_batches: number;
  follow: { flows: number; lost_events: number; error?: string };
  processes: ProcessReport[];
  storage: { rows: number; bytes_on_disk: number; bytes_per_flow: number; uncompressed_bytes_per_flow: number; parts: number; data_dir?: string };
  machine: { cpu: string; cores: number; node: string; loadavg_1m_at_start: number; date: string };
  elapsed_s: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The samples that bracket the window [t, t2]: the last one at or before t (else the first)
 * and the first one at or after t2 (else the last). A starved process prints late; bracketing
 * samples keep its rates exact over the interval they actually cover. */
function windowEnds<T extends { t: number }>(s: readonly T[], t: number, t2: number): [T, T] | null {
  const a = [...s].reverse().find((x) => x.t <= t) ?? s[0];
  const b = s.find((x) => x.t >= t2) ?? s[s.length - 1];
  return a && b && b.t > a.t ? [a, b] : null;
}

export async function runLoadtest(opts: LoadtestOptions): Promise<LoadtestReport> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const loadavg = os.loadavg()[0];
  const children = new ChildSet();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-loadtest-'));
  const dataDir = path.join(dir, 'chdb');
  const perNode = Math.floor(opts.rate / opts.nodes);
  const offered = perNode * opts.nodes;
  const drainMs = opts.drainTimeoutMs ?? 30_000;
  const prof = (name: string) => (opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(opts.profileDir, name)] : []);
  const usage = new Map<Child, ProcSample[]>();
  let sampler: NodeJS.Timeout | undefined;
  let follower: FollowProbe | undefined;

  try {
    // --- relay ---------------------------------------------------------------------------------
    const relayAddr = `127.0.0.1:${await freePort()}`;
    const relaySamples: RelaySample[] = [];
    let relayFinal: RelayFinal | undefined;
    const relay = children.spawnNode(
      'relay',
      [
        ...STARTUP_THREADS,
        ...prof('relay'),
        RELAY_JS,
        '--listen',
        relayAddr,
        '--data-dir',
        dataDir,
        '--batch-rows',
        String(opts.batchRows),
        '--flush-interval',
        String(opts.flushIntervalMs ?? DEFAULT_BATCHER_OPTIONS.flushIntervalMs),
        '--probe-ms',
        String(opts.probeIntervalMs ?? 250),
      ],
      (m) => {
        if (m.kind === 'final') relayFinal = m as unknown as RelayFinal;
        else relaySamples.push(m as unknown as RelaySample);
      },
    );
    await waitHealthy(relayAddr, 90_000).catch((err: Error) => {
      throw new Error(`relay did not start: ${err.message}\n${relay.tail()}`);
    });
    log(`relay up on ${relayAddr} (data ${dataDir})`);

    follower = new FollowProbe(relayAddr);
    follower.start();

    // --- collectors ----------------------------------------------------------------------------
    const samples: CollectorSample[][] = [];
    const finals: (CollectorSample | undefined)[] = [];
    const collectors: Child[] = [];
    for (let i = 0; i < opts.nodes; i++) {
      samples.push([]);
      finals.push(undefined);
      const listen = `127.0.0.1:${await freePort()}`;
      collectors.push(
        children.spawnNode(
          `collector-${i + 1}`,
          [
            ...STARTUP_THREADS,
            ...COLLECTOR_NODE_FLAGS,
            ...(opts.collectorNodeFlags ?? []),
            ...prof(`collector-${i + 1}`),
            COLLECTOR_JS,
            '--relay',
            relayAddr,
            '--listen',
            listen,
            '--synthetic-node',
            String(i + 1),
            '--synthetic-nodes',
            String(Math.max(4, opts.nodes + 1)),
            '--rate',
            String(perNode),
            '--drain-timeout',
            String(drainMs),
            '--spill-dir',
            opts.spill === false ? 'none' : path.join(dir, `spill-${i + 1}`),
          ],
          (m) => {
            const s = m as unknown as CollectorSample;
            if (s.kind === 'final') finals[i] = s;
            else samples[i].push(s);
          },
          COLLECTOR_ENV,
        ),
      );
    }
    const all = [relay, ...collectors];
    for (const c of all) usage.set(c, []);
    const sampleAll = () => {
      for (const [c, xs] of usage) {
        const s = readProcSample(c.pid);
        if (s) xs.push(s);
      }
    };
    sampleAll();
    sampler = setInterval(sampleAll, 1000);

    await waitFor('collectors connected', async () => (samples.every((s) => s.some((x) => x.connected)) ? true : undefined), 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${collectors.map((c) => `${c.name}: ${c.tail()}`).join('\n')}`);
    });
    log(`${opts.nodes} collectors connected, ${perNode} records/s each; warm-up ${opts.warmupS} s, then ${opts.durationS} s measured`);

    // --- measured window -----------------------------------------------------------------------
    await sleep(opts.warmupS * 1000);
    const tA = Date.now();
    const startup = [relaySamples, ...samples].map((xs) => parseStartupThreads(xs.find((x) => x.kind === 'ready')?.startupThreads));
    const threadsA = all.map((c, i) => readThreadCpu(c.pid, startup[i]));
    await sleep(opts.durationS * 1000);
    const tB = Date.now();
    const threadsB = all.map((c, i) => readThreadCpu(c.pid, startup[i]));
    sampleAll();
    // Every process prints a line once a second; wait for one after tB from each (a process
    // starved of CPU prints late).
    const after = (xs: readonly { t: number }[]) => xs.some((x) => x.t >= tB);
    await waitFor('counters after the window from every process', async () => (samples.every(after) && after(relaySamples) ? true : undefined), 60_000);
    const tB1 = tB + 1000;

    let emitted = 0,
      decoded = 0,
      acked = 0,
      backlog = 0,
      backlogStart = 0;
    const ackLat: number[] = [];
    const perCollector: number[] = [];
    for (const s of samples) {
      const ends = windowEnds(s, tA, tB);
      if (!ends) throw new Error('collector samples missing in the measured window');
      const [a, b] = ends;
      const dt = (b.t - a.t) / 1000;
      emitted += (b.recordsRead - a.recordsRead) / dt;
      perCollector.push((b.recordsRead - a.recordsRead) / dt);
      decoded += (b.flowsDecoded - a.flowsDecoded) / dt;
      acked += (b.flowsAcked - a.flowsAcked) / dt;
      backlog += b.unackedFlows;
      backlogStart += a.unackedFlows;
      for (const x of s) if (x.t >= a.t && x.t <= b.t && x.lastAckLatencyMs > 0) ackLat.push(x.lastAckLatencyMs);
    }
    const rEnds = windowEnds(relaySamples, tA, tB);
    if (!rEnds) throw new Error(`relay samples missing in the measured window\n${relay.tail()}`);
    const storedRate = (rEnds[1].insertedRows - rEnds[0].insertedRows) / ((rEnds[1].t - rEnds[0].t) / 1000);
    backlog += rEnds[1].pendingRows;
    backlogStart += rEnds[0].pendingRows;
    // Longest stretch without a completed insert while the relay held rows, inside the window:
    // the relay tracks it every 50 ms and reports the longest since its previous line.
    let gap = 0;
    for (const x of relaySamples) if (x.t > rEnds[0].t && x.t <= rEnds[1].t) gap = Math.max(gap, x.insertGapMs);
    const queryable = relaySamples.filter((x) => x.t > tA && x.t <= tB1).flatMap((x) => x.queryableLagMs);
    const followLat = follower.latencies(tA, tB);
    const followCounts = { flows: follower.flows, lost_events: follower.lostEvents, ...(follower.error && { error: follower.error.message }) };

    // --- orderly stop --------------------------------------------------------------------------
    log('stopping: collectors drain, then the relay flushes');
    await follower.stop();
    await Promise.all(collectors.map((c) => children.stop(c, drainMs + 15_000)));
    const relayCode = await children.stop(relay, 180_000);
    clearInterval(sampler);
    sampler = undefined;
    if (relayCode !== 0 || !relayFinal) throw new Error(`relay exited with ${relayCode}\n${relay.tail()}`);
    if (finals.some((f) => f === undefined)) throw new Error(`a collector did not report its final counters\n${collectors.map((c) => c.tail()).join('\n')}`);
    const f = finals as CollectorSample[];
    const rf = relayFinal;

    // --- accounting ----------------------------------------------------------------------------
    const sum = (g: (x: CollectorSample) => number) => f.reduce((n, x) => n + g(x), 0);
    const decode = {
      truncated: sum((x) => x.decode.truncated),
      unknown_type: sum((x) => x.decode.unknownType),
      unknown_version: sum((x) => x.decode.unknownVersion),
      bad_length: sum((x) => x.decode.badLength),
      bad_packet: sum((x) => x.decode.badPacket),
      not_a_flow: sum((x) => x.decode.skipped),
      total: 0,
    };
    decode.total = decode.truncated + decode.unknown_type + decode.unknown_version + decode.bad_length + decode.bad_packet + decode.not_a_flow;
    const records = sum((x) => x.recordsRead);
    const flows = sum((x) => x.flowsDecoded);
    // Records without a flow must all carry a decoder reason.
    let unaccounted = Math.abs(records - flows - decode.total);
    let abandoned = 0;
    const storedFor = (node: string) =>
      Object.entries(rf.storedByNode)
        .filter(([n]) => n === node || n.endsWith(`/${node}`))
        .reduce((a, [, k]) => a + k, 0);
    let storedMatched = 0;
    for (const x of f) {
      const stored = storedFor(x.node);
      storedMatched += stored;
      // Per collector: decoded = dropped (counted) + stored + left unacknowledged at exit, where
      // only the unacknowledged ones the relay did not store after all are lost.
      const notStored = x.flowsDecoded - x.flowsDropped - stored;
      if (notStored < 0)
        unaccounted += -notStored; // stored more than was shipped: duplicates
      else if (notStored > x.unackedFlows) {
        unaccounted += notStored - x.unackedFlows;
        abandoned += x.unackedFlows;
      } else abandoned += notStored;
    }
    unaccounted += Math.abs(rf.storedRows - storedMatched); // rows from no known collector
    const loss = {
      perf_ring: sum((x) => x.perfLost),
      decode_queue: sum((x) => x.queueDropped),
      decode,
      shipper_dropped: sum((x) => x.flowsDropped),
      shipper_abandoned_at_exit: abandoned,
      relay_not_stored: Math.max(0, rf.flowsReceived - rf.storedRows),
      unaccounted,
      total: 0,
    };
    loss.total = loss.perf_ring + loss.decode_queue + decode.total + loss.shipper_dropped + loss.shipper_abandoned_at_exit + unaccounted;
    const accountingCloses = unaccounted === 0 && records === rf.storedRows + decode.total + loss.shipper_dropped + abandoned;
    const zeroLoss = loss.total === 0;
    // Kept up: the sources produced the offered rate, and the backlog (unacknowledged flows in
    // the collectors + accepted rows not yet inserted) neither grew by more than 5% of the
    // window's flows nor ended above 2 s of traffic plus one flush interval (the rows a relay
    // holds for its next insert are acknowledged only after it). Comparing the backlog, not the
    // stored rate with the decoded rate, avoids the quantisation of once-a-second samples of inserts.
    const windowS = (tB - tA) / 1000;
    const backlogLimit = offered * (2 + (opts.flushIntervalMs ?? DEFAULT_BATCHER_OPTIONS.flushIntervalMs) / 1000);
    const keptUp = emitted >= 0.95 * offered && backlog - backlogStart <= 0.05 * decoded * windowS && backlog <= backlogLimit;

    const processes: ProcessReport[] = [];
    for (const [i, c] of all.entries()) {
      const u = summarizeUsage(usage.get(c)!, tA, tB);
      const handled = i === 0 ? storedRate : perCollector[i - 1];
      const p: ProcessReport = {
        name: c.name,
        pid: c.pid,
        ...u,
        cpu_us_per_flow: handled > 0 ? Math.round(((u.cpu_pct / 100) * 1e6) / handled) : 0,
        threads: threadUsage(threadsA[i], threadsB[i], (tB - tA) / 1000),
      };
      if (i > 0) {
        const own = samples[i - 1].filter((x) => x.memory !== undefined);
        if (own.length > 0) p.memory_at_peak_mb = own.reduce((a, b) => (b.memory.rss > a.memory.rss ? b : a)).memory;
      }
      if (opts.profileDir) {
        const pdir = path.join(opts.profileDir, c.name);
        const file = (await fs.readdir(pdir).catch(() => [] as string[])).find((x) => x.endsWith('.cpuprofile'));
        if (file) p.profile = summarizeProfile(path.join(pdir, file), 15);
      }
      processes.push(p);
    }

    const r = Math.round;
    return {
      config: {
        nodes: opts.nodes,
        rate_records_per_s: offered,
        per_node_records_per_s: perNode,
        duration_s: opts.durationS,
        warmup_s: opts.warmupS,
        batch_rows: opts.batchRows,
        flush_interval_ms: opts.flushIntervalMs ?? DEFAULT_BATCHER_OPTIONS.flushIntervalMs,
        spill: opts.spill !== false,
        collector_node_flags: [...COLLECTOR_NODE_FLAGS, ...(opts.collectorNodeFlags ?? [])],
        collector_env: COLLECTOR_ENV,
      },
      window: { start: new Date(tA).toISOString(), seconds: r((tB - tA) / 100) / 10 },
      throughput: {
        offered_records_per_s: offered,
        emitted_records_per_s: r(emitted),
        decoded_flows_per_s: r(decoded),
        stored_flows_per_s: r(storedRate),
        acked_flows_per_s: r(acked),
      },
      totals: {
        records_offered: records + loss.perf_ring + loss.decode_queue,
        records_emitted: records,
        flows_decoded: flows,
        flows_sent: sum((x) => x.flowsSent),
        flows_received_by_relay: rf.flowsReceived,
        flows_stored: rf.storedRows,
      },
      loss,
      accounting_closes: accountingCloses,
      zero_loss: zeroLoss,
      kept_up: keptUp,
      sustained: zeroLoss && keptUp,
      backlog_at_window_start: backlogStart,
      backlog_at_window_end: backlog,
      latency_ms: { follow: percentiles(followLat), queryable: percentiles(queryable), ack: percentiles(ackLat) },
      follow: followCounts,
      relay: {
        insert_errors: rf.insertErrors,
        duplicate_batches: rf.duplicateBatches,
        protocol_errors: rf.protocolErrors,
        longest_insert_gap_s: Math.round(gap / 10) / 100,
      },
      collectors_spilled_batches: sum((x) => x.spilledBatches),
      processes,
      storage: {
        rows: rf.storedRows,
        bytes_on_disk: rf.bytesOnDisk,
        bytes_per_flow: rf.storedRows ? Math.round((rf.bytesOnDisk / rf.storedRows) * 10) / 10 : 0,
        uncompressed_bytes_per_flow: rf.storedRows ? Math.round((rf.bytesUncompressed / rf.storedRows) * 10) / 10 : 0,
        parts: rf.parts,
        ...(opts.keep && { data_dir: dataDir }),
      },
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        node: process.version,
        loadavg_1m_at_start: Math.round(loadavg * 100) / 100,
        date: new Date(started).toISOString(),
      },
      elapsed_s: r((Date.now() - started) / 1000),
    };
  } finally {
    if (sampler) clearInterval(sampler);
    await follower?.stop().catch(() => {});
    await children.stopAll();
    if (!opts.keep) await fs.rm(dir, { recursive: true, force: true });
  }
}
