// `npm run bench`: throughput of the end-to-end slice.
//
//  1. decode: records/s on one core (this process's main thread) over a pre-generated synthetic
//     record mix, decode only and decode + static-inventory enrichment; warm-up, then timed runs,
//     median reported.
//  2. end-to-end: a relay (`flowscope relay`, embedded chDB in a temporary directory) and N
//     synthetic collector processes on loopback, stepped through total offered rates. Per step:
//     offered vs emitted vs durably stored rate, loss, ack latency; the highest step with zero
//     loss that also kept up is the sustained rate.
//
// Flags: --quick (under a minute), --json (one JSON object on stdout), --collectors N,
// --rates 2000,5000,… (total flows/s), --duration S (measured seconds per step),
// --profile (one extra run at the highest rate with the relay under `node --cpu-prof`; the top
// self-time functions are reported). Progress goes to stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SyntheticSource } from '../collector/sources/synthetic.js';
import { toInventory } from '../collector/synthetic/cluster.js';
import { StaticInventoryEnricher } from '../collector/enrich/static.js';
import { MonitorDecoder } from '../collector/decode/decoder.js';
import { FlowStore } from '../storage/index.js';
import { BIN, freePort, waitFor, waitHealthy } from '../api/e2e/harness.js';
import type { CollectorSample } from './collector-proc.js';
import { summarizeProfile, type ProfileSummary } from './cpuprofile.js';

const COLLECTOR_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'collector-proc.js');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    collectors: { type: 'string', default: '2' },
    rates: { type: 'string' },
    duration: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
  strict: true,
});
const QUICK = args.quick!;
const COLLECTORS = Number(args.collectors);
const RATES = (args.rates ?? (QUICK ? '2000,10000' : '2000,4000,6000,8000,10000,15000')).split(',').map(Number);
const DURATION_S = Number(args.duration ?? (QUICK ? 8 : 20));
/** Seconds after every collector connected before the measured window opens (JIT, first inserts). */
const WARMUP_S = QUICK ? 2 : 3;
const DECODE_RUN_S = QUICK ? 1 : 3;
const DECODE_RUNS = 3;
if (!Number.isInteger(COLLECTORS) || COLLECTORS < 1) throw new Error('--collectors must be a positive integer');
if (RATES.some((r) => !Number.isFinite(r) || r < COLLECTORS)) throw new Error('--rates must be numbers ≥ the collector count');

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]; };

// ---------------------------------------------------------------------------------------------
// Child processes: every one is registered so that a failure or Ctrl-C still stops it.

interface Child { name: string; proc: ChildProcess; tail: () => string; exited: Promise<number | null> }
const children = new Set<Child>();
const tempDirs = new Set<string>();

function spawnNode(name: string, nodeArgs: string[], onLine?: (line: string) => void): Child {
  const proc = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Only the tail is kept: enough to explain a failure without holding a run's logs in memory.
  let tail = '';
  let partial = '';
  const keep = (d: Buffer) => { tail = (tail + d.toString()).slice(-8192); };
  proc.stdout!.on('data', (d: Buffer) => {
    keep(d);
    if (!onLine) return;
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const l of lines) if (l !== '') onLine(l);
  });
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const child: Child = { name, proc, tail: () => tail, exited };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
async function stopChild(c: Child, graceMs = 20_000): Promise<number | null> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) return c.proc.exitCode;
  c.proc.kill('SIGTERM');
  const t = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
  const code = await c.exited;
  clearTimeout(t);
  return code;
}

async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c, 5_000)));
  await Promise.all([...tempDirs].map((d) => fs.rm(d, { recursive: true, force: true })));
  tempDirs.clear();
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { progress(`${sig}: stopping child processes`); void cleanup().finally(() => process.exit(130)); });
}

// ---------------------------------------------------------------------------------------------
// 1. Decode throughput on one core.

interface DecodeResult { records: number; avgBytes: number; decodePerS: number; decodeEnrichPerS: number; decodeRuns: number[]; decodeEnrichRuns: number[] }

function benchDecode(): DecodeResult {
  // The record mix of collector/decode/decode.bench.ts: one synthetic node, seed 42, 65,536
  // pre-generated records (all scenario kinds at their default weights), so the figures compare.
  const src = new SyntheticSource({ seed: 42 });
  const recs = src.take(65_536, Date.now() * 1e6);
  const enricher = new StaticInventoryEnricher(toInventory(src.model), { nodeName: src.nodeName });
  const avgBytes = recs.reduce((n, r) => n + r.data.length, 0) / recs.length;
  let sink = 0;

  const measure = (enrich: boolean): number[] => {
    const dec = new MonitorDecoder({ nodeName: src.nodeName, localEndpointId: enricher.localEndpointId });
    const pass = () => {
      for (let i = 0; i < recs.length; i++) {
        const f = dec.decode(recs[i]);
        if (f !== null) { if (enrich) enricher.enrich(f); sink += f.verdict ?? 0; }
      }
    };
    // Warm-up: enough passes for the optimising compiler to settle on the hot loop.
    for (let i = 0; i < 4; i++) pass();
    const runs: number[] = [];
    for (let r = 0; r < DECODE_RUNS; r++) {
      let n = 0;
      const t0 = performance.now();
      const end = t0 + DECODE_RUN_S * 1000;
      while (performance.now() < end) { pass(); n += recs.length; }
      runs.push(Math.round(n / ((performance.now() - t0) / 1000)));
    }
    return runs;
  };

  const decodeRuns = measure(false);
  const decodeEnrichRuns = measure(true);
  // Keeps the decoded values observable so the loop cannot be optimised away.
  if (sink === -1) progress('unreachable');
  return { records: recs.length, avgBytes, decodePerS: median(decodeRuns), decodeEnrichPerS: median(decodeEnrichRuns), decodeRuns, decodeEnrichRuns };
}

// ---------------------------------------------------------------------------------------------
// 2. End-to-end steps.

interface StepResult {
  offered_flows_per_s: number;
  /** Records the sources produced per second in the window (falls short if a collector starves). */
  emitted_records_per_s: number;
  decoded_flows_per_s: number;
  /** Flows acknowledged as durable by the relay per second in the window. */
  ingest_flows_per_s: number;
  records_total: number;
  flows_total: number;
  stored_total: number;
  dropped_by_shipper: number;
  loss: number;
  unacked_at_window_end: number;
  ack_latency_ms_p50: number;
  ack_latency_ms_max: number;
  zero_loss: boolean;
  kept_up: boolean;
  sustained: boolean;
}

interface StepOptions { rate: number; durationS: number; profileDir?: string }

async function runStep(opts: StepOptions): Promise<StepResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-loadtest-'));
  tempDirs.add(dir);
  const dataDir = path.join(dir, 'chdb');
  const relayAddr = `127.0.0.1:${await freePort()}`;
  const perCollector = Math.floor(opts.rate / COLLECTORS);
  const offered = perCollector * COLLECTORS;
  const step: Child[] = [];
  try {
    const relayArgs = [...(opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : []), BIN, 'relay', '--listen', relayAddr, '--data-dir', dataDir];
    const relay = spawnNode('relay', relayArgs);
    step.push(relay);
    await waitHealthy(relayAddr, 60_000).catch((err: Error) => { throw new Error(`relay did not start: ${err.message}\n${relay.tail()}`); });

    const samples: CollectorSample[][] = [];
    const finals: (CollectorSample | undefined)[] = [];
    for (let i = 0; i < COLLECTORS; i++) {
      samples.push([]);
      finals.push(undefined);
      const listen = `127.0.0.1:${await freePort()}`;
      const c = spawnNode(`collector-${i}`, [COLLECTOR_JS, '--relay', relayAddr, '--listen', listen, '--synthetic-node', String(i + 1), '--rate', String(perCollector)], (line) => {
        let s: CollectorSample;
        try { s = JSON.parse(line) as CollectorSample; } catch { return; } // a log line, not a sample
        if (s.kind === 'final') finals[i] = s; else if (s.kind === 'stats' || s.kind === 'ready') samples[i].push(s);
      });
      step.push(c);
    }
    await waitFor('collectors connected', async () => (samples.every((s) => s.some((x) => x.connected)) ? true : undefined), 60_000)
      .catch((err: Error) => { throw new Error(`${err.message}\n${step.map((c) => `${c.name}: ${c.tail()}`).join('\n')}`); });

    await sleep(WARMUP_S * 1000);
    const tA = Date.now();
    await sleep(opts.durationS * 1000 + 1100); // + one sample period so a sample lands after tB
    const tB = tA + opts.durationS * 1000;

    // Window rates per collector from its own samples (each process reads its own clock once per
    // sample, so the deltas are exact for that process), summed over collectors.
    let emitted = 0, decoded = 0, acked = 0, unackedEnd = 0;
    const latencies: number[] = [];
    for (const s of samples) {
      const a = s.find((x) => x.t >= tA);
      const b = [...s].reverse().find((x) => x.t <= tB + 1000);
      if (!a || !b || b.t <= a.t) throw new Error('collector samples missing in the measured window');
      const dt = (b.t - a.t) / 1000;
      emitted += (b.recordsRead - a.recordsRead) / dt;
      decoded += (b.flowsDecoded - a.flowsDecoded) / dt;
      acked += (b.flowsAcked - a.flowsAcked) / dt;
      unackedEnd += b.unackedFlows;
      for (const x of s) if (x.t >= a.t && x.t <= b.t && x.lastAckLatencyMs > 0) latencies.push(x.lastAckLatencyMs);
    }

    // Collectors first: each stops its source, then waits (≤ 5 s) for the relay to acknowledge
    // everything it sent; then the relay, which flushes its last insert before exiting.
    await Promise.all(step.slice(1).map((c) => stopChild(c)));
    const relayCode = await stopChild(relay);
    if (relayCode !== 0) throw new Error(`relay exited with ${relayCode}\n${relay.tail()}`);
    if (finals.some((f) => f === undefined)) throw new Error(`a collector did not report its final counters\n${step.slice(1).map((c) => c.tail()).join('\n')}`);

    // Stored = rows in the relay's storage, counted after the relay exited: one count(*) on the
    // data directory, exact and cheaper than streaming every flow back through GetFlows.
    const store = await FlowStore.open({ path: dataDir });
    const stored = await store.countFlows();
    await store.close();

    const f = finals as CollectorSample[];
    const records = f.reduce((n, x) => n + x.recordsRead, 0);
    const flows = f.reduce((n, x) => n + x.flowsDecoded, 0);
    const dropped = f.reduce((n, x) => n + x.flowsDropped, 0);
    const loss = flows - stored;
    const zeroLoss = loss === 0 && dropped === 0;
    // Kept up: sources produced the offered rate, the relay made the window's flows durable as
    // fast as they came, and the backlog at the end of the window is under 2 s of traffic (a
    // growing backlog would turn into loss once the shipper's 200k-flow buffer fills).
    const keptUp = emitted >= 0.95 * offered && acked >= 0.95 * decoded && unackedEnd <= 2 * offered;
    return {
      offered_flows_per_s: offered,
      emitted_records_per_s: Math.round(emitted),
      decoded_flows_per_s: Math.round(decoded),
      ingest_flows_per_s: Math.round(acked),
      records_total: records, flows_total: flows, stored_total: stored, dropped_by_shipper: dropped, loss,
      unacked_at_window_end: unackedEnd,
      ack_latency_ms_p50: median(latencies),
      ack_latency_ms_max: latencies.length ? Math.max(...latencies) : 0,
      zero_loss: zeroLoss, kept_up: keptUp, sustained: zeroLoss && keptUp,
    };
  } finally {
    await Promise.all(step.map((c) => stopChild(c, 5_000)));
    await fs.rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  progress(`decode: ${DECODE_RUNS} runs × ${DECODE_RUN_S} s per mode`);
  const dec = benchDecode();
  progress(`decode ${dec.decodePerS.toLocaleString('en-US')}/s, decode+enrich ${dec.decodeEnrichPerS.toLocaleString('en-US')}/s`);

  const steps: StepResult[] = [];
  let failures = 0;
  for (const rate of RATES) {
    progress(`end-to-end: ${rate} flows/s offered by ${COLLECTORS} collectors for ${DURATION_S} s`);
    const r = await runStep({ rate, durationS: DURATION_S });
    steps.push(r);
    progress(`  ingest ${r.ingest_flows_per_s}/s, stored ${r.stored_total}/${r.flows_total}, loss ${r.loss}, dropped ${r.dropped_by_shipper}, backlog ${r.unacked_at_window_end}, ack p50 ${r.ack_latency_ms_p50} ms → ${r.sustained ? 'sustained' : 'NOT sustained'}`);
    // Two failed steps in a row have shown the ceiling; higher rates would only take time.
    failures = r.sustained ? 0 : failures + 1;
    if (failures >= 2) break;
  }

  let profile: ProfileSummary | undefined;
  let profileRate = 0;
  if (args.profile) {
    profileRate = Math.max(...steps.map((s) => s.offered_flows_per_s));
    const pdir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-prof-'));
    tempDirs.add(pdir);
    progress(`profile: relay under --cpu-prof at ${profileRate} flows/s for ${DURATION_S} s`);
    await runStep({ rate: profileRate, durationS: DURATION_S, profileDir: pdir });
    const file = (await fs.readdir(pdir)).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('the relay wrote no .cpuprofile');
    profile = summarizeProfile(path.join(pdir, file), 15);
    await fs.rm(pdir, { recursive: true, force: true });
    tempDirs.delete(pdir);
  }

  const sustained = steps.filter((s) => s.sustained).map((s) => s.offered_flows_per_s);
  const result = {
    decode_records_per_s: dec.decodePerS,
    decode_enrich_records_per_s: dec.decodeEnrichPerS,
    ingest_flows_per_s: Math.max(0, ...steps.map((s) => s.ingest_flows_per_s)),
    zero_loss_flows_per_s: Math.max(0, ...sustained),
    collectors: COLLECTORS,
    step_duration_s: DURATION_S,
    quick: QUICK,
    decode_runs: dec.decodeRuns,
    decode_enrich_runs: dec.decodeEnrichRuns,
    decode_mix: { records: dec.records, avg_bytes: Math.round(dec.avgBytes) },
    steps,
    relay_profile: profile ? { offered_flows_per_s: profileRate, total_ms: profile.totalMs, idle_pct: profile.idlePct, functions: profile.functions, files: profile.files } : undefined,
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, date: new Date().toISOString() },
    elapsed_s: Math.round((Date.now() - started) / 1000),
  };

  if (args.json) { process.stdout.write(JSON.stringify(result) + '\n'); return; }

  const n = (x: number) => x.toLocaleString('en-US');
  const out: string[] = [];
  out.push(`flowscope bench (${QUICK ? 'quick' : 'full'}) — ${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}, ${result.machine.date}`, '');
  out.push('| figure | value |', '|---|---|');
  out.push(`| decode, one core | ${n(result.decode_records_per_s)} records/s (runs ${dec.decodeRuns.map(n).join(', ')}) |`);
  out.push(`| decode + enrich, one core | ${n(result.decode_enrich_records_per_s)} records/s (runs ${dec.decodeEnrichRuns.map(n).join(', ')}) |`);
  out.push(`| end-to-end ingest (highest durable rate seen) | ${n(result.ingest_flows_per_s)} flows/s |`);
  out.push(`| end-to-end sustained with zero loss | ${n(result.zero_loss_flows_per_s)} flows/s (${COLLECTORS} collectors, ${DURATION_S} s steps) |`, '');
  out.push('| offered flows/s | emitted records/s | ingest flows/s | flows | stored | loss | shipper drops | backlog at end | ack p50 / max ms | result |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const s of steps) {
    out.push(`| ${n(s.offered_flows_per_s)} | ${n(s.emitted_records_per_s)} | ${n(s.ingest_flows_per_s)} | ${n(s.flows_total)} | ${n(s.stored_total)} | ${n(s.loss)} | ${n(s.dropped_by_shipper)} | ${n(s.unacked_at_window_end)} | ${s.ack_latency_ms_p50} / ${s.ack_latency_ms_max} | ${s.sustained ? 'sustained' : s.zero_loss ? 'zero loss, fell behind' : 'loss'} |`);
  }
  if (profile) {
    out.push('', `Relay CPU profile at ${n(profileRate)} flows/s offered (${n(profile.totalMs)} ms sampled, ${profile.idlePct}% idle), top self time:`, '');
    out.push('| self % | function |', '|---|---|');
    for (const h of profile.functions) out.push(`| ${h.selfPct} | \`${h.name}\` |`);
    out.push('', '| self % | file |', '|---|---|');
    for (const h of profile.files) out.push(`| ${h.selfPct} | \`${h.name}\` |`);
  }
  out.push('', `(${result.elapsed_s} s)`);
  console.log(out.join('\n'));
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
