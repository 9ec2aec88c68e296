// `npm run bench`: the project's headline figures as one set of stable keys.
//
//  * decode_records_per_s: records/s decoded on one core (this process's main thread) over a
//    pre-generated synthetic record mix; warm-up, then timed runs, median reported.
//  * ingest_flows_per_s, ingest_ceiling_flows_per_s, bytes_per_flow, query_drops_ns_24h_p99_ms,
//    service_map_1h_p99_ms: loadtest/storage-bench.ts (benchStorage).
//  * collector_cpu_us_per_record, ingest_native_ratio (and details.stages, the CPU µs per flow of
//    every stage): loadtest/stage-bench.ts (benchStages), all stages on the same rows in one run.
//  * relay_cpu_us_per_flow: the relay's own CPU per stored flow at the zero-loss rate: its
//    JavaScript thread and V8's helper threads, not libuv's pool (where chDB runs the engine's
//    inserts and queries) nor ClickHouse's named threads; details.relay_cpu_us_per_flow_with_pool
//    adds libuv's pool (an upper bound: everything but ClickHouse's named threads).
//  * zero_loss_records_per_s: load-test runs (loadtest/run.ts) stepped through total offered
//    rates; the highest rate that was sustained (zero loss at every stage and kept up).
//  * follow_latency_p99_ms, queryable_latency_p99_ms: record → `--follow` client and record →
//    queryable, p99, from the step at the zero-loss rate (the first step if none was sustained).
//  * collector_rss_mb_at_100k: peak RSS (VmHWM, whole run) of one collector process offered 100k
//    records/s, spilling as the CLI does.
//  * longest_insert_gap_s: the relay's longest stretch without a completed insert while it held
//    rows, in a load-test run offered 5× the zero-loss rate (the first step's rate if none was
//    sustained), at the relay's default --flush-interval (500 ms).
//  * observe_print_flows_per_s: `flowscope observe` compact printing (loadtest/print-bench.ts, its
//    own process writing into a pipe this process drains), flows per CPU second of the printing
//    process, median of 3 runs; the wall-clock rates are in details (they also wait for the pipe's
//    reader and for the CPU on a shared machine).
//
// Flags: --quick (under two minutes, smaller data and shorter steps), --json (one JSON object on
// stdout), --collectors N, --rates 2000,5000,… (total records/s), --duration S (measured seconds
// per step), --profile (one extra load-test run at the zero-loss rate with every process under
// `node --cpu-prof`; top self-time functions per process). Progress goes to stderr.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SyntheticSource } from '../collector/sources/synthetic.js';
import { toInventory } from '../collector/synthetic/cluster.js';
import { StaticInventoryEnricher } from '../collector/enrich/static.js';
import { MonitorDecoder } from '../collector/decode/decoder.js';
import { benchStorage } from './storage-bench.js';
import { benchStages } from './stage-bench.js';
import { runLoadtest, type LoadtestReport } from './run.js';
import type { PerfBenchResult } from './perf-bench.js';

const PERF_BENCH_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'perf-bench.js');
const PRINT_BENCH_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'print-bench.js');

interface PrintRun {
  flows: number;
  seconds: number;
  cpuSeconds: number;
  flowsPerS: number;
  flowsPerCpuS: number;
}

/** One print-bench run, its stdout a pipe drained here (as `observe | grep` would). */
function printRun(flows: number): Promise<PrintRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PRINT_BENCH_JS, String(flows)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stdout.on('data', () => {});
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const line = err.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`print benchmark failed (${code}): ${err}`));
      resolve(JSON.parse(line) as PrintRun);
    });
  });
}
// The collector's kernel-source defaults: 256 pages per CPU, 32 KiB wake-up watermark.
const PERF_PAGES = 256,
  PERF_WAKEUP_BYTES = 32 * 1024;

/** The perf-ring section (loadtest/perf-bench.ts) in its own process: it needs root and the built
 * kernel sources; without them it reports why, and the keys are null (a failure under CI=true). */
function benchPerfRing(quick: boolean): Promise<{ result: PerfBenchResult | null; note: string }> {
  const args = [PERF_BENCH_JS, '--json', '--pages', String(PERF_PAGES), '--wakeup', `0,${PERF_WAKEUP_BYTES}`, ...(quick ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      process.stderr.write(stderr);
      if (err) return reject(new Error(`perf-ring benchmark failed: ${err.message}`));
      const line = stdout.trim().split('\n').pop() ?? '';
      if (line === '') return resolve({ result: null, note: (/skipped: (.*)/.exec(stderr)?.[1] ?? 'skipped').trim() });
      resolve({ result: JSON.parse(line) as PerfBenchResult, note: '' });
    });
  });
}

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    collectors: { type: 'string', default: '2' },
    rates: { type: 'string' },
    duration: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'query-rows': { type: 'string' },
    'query-store': { type: 'string' },
  },
  strict: true,
});
const QUICK = args.quick!;
const COLLECTORS = Number(args.collectors);
const RATES = (args.rates ?? (QUICK ? '2000,6000' : '2000,5000,8000,10000,12000,15000,20000')).split(',').map(Number);
const DURATION_S = Number(args.duration ?? (QUICK ? 4 : 20));
/** Seconds after every collector connected before the measured window opens (JIT, first inserts). */
const WARMUP_S = QUICK ? 1 : 3;
const DECODE_RUN_S = QUICK ? 1 : 3;
const DECODE_RUNS = 3;
const STORAGE_ROWS = QUICK ? 50_000 : 300_000;
const STAGE_ROWS = QUICK ? 50_000 : 300_000;
// The query figures are defined on 100M stored flows; the store is generated once (in the engine,
// tens of minutes on 2 cores) and reused by later runs from --query-store.
const STORAGE_QUERY_ROWS = Number(args['query-rows'] ?? (QUICK ? 100_000 : 100_000_000));
const QUERY_STORE = args['query-store'] ?? path.resolve('.flowscope', 'bench', `query-store-${STORAGE_QUERY_ROWS}`);
const RSS_RATE = 100_000;
if (!Number.isInteger(COLLECTORS) || COLLECTORS < 1) usage('--collectors must be a positive integer');
if (RATES.some((r) => !Number.isInteger(r) || r < COLLECTORS)) usage('--rates must be integers ≥ the collector count');
if (!Number.isInteger(DURATION_S) || DURATION_S < 1) usage('--duration must be a positive integer');
if (!Number.isInteger(STORAGE_QUERY_ROWS) || STORAGE_QUERY_ROWS < 10_000) usage('--query-rows must be an integer ≥ 10000');

function usage(msg: string): never {
  process.stderr.write(`Error: ${msg}

Usage: npm run bench -- [--quick] [--json] [--collectors N] [--rates R1,R2,…] [--duration S] [--profile]
                        [--query-rows N] [--query-store DIR]
`);
  process.exit(2);
}

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)];
};

// ---------------------------------------------------------------------------------------------
// 1. Decode throughput on one core.

interface DecodeResult {
  records: number;
  avgBytes: number;
  decodePerS: number;
  decodeEnrichPerS: number;
  decodeRuns: number[];
  decodeEnrichRuns: number[];
}

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
        if (f !== null) {
          if (enrich) enricher.enrich(f);
          sink += f.verdict ?? 0;
        }
      }
    };
    // Warm-up: enough passes for the optimising compiler to settle on the hot loop.
    for (let i = 0; i < 4; i++) pass();
    const runs: number[] = [];
    for (let r = 0; r < DECODE_RUNS; r++) {
      let n = 0;
      const t0 = performance.now();
      const end = t0 + DECODE_RUN_S * 1000;
      while (performance.now() < end) {
        pass();
        n += recs.length;
      }
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
// 2. Storage, 3. load-test steps, 4. collector RSS at 100k records/s.

const summary = (r: LoadtestReport) =>
  `stored ${r.throughput.stored_flows_per_s}/s of ${r.throughput.emitted_records_per_s}/s emitted, loss ${r.loss.total} (unaccounted ${r.loss.unaccounted}), ` +
  `backlog ${r.backlog_at_window_start}→${r.backlog_at_window_end}, follow p99 ${r.latency_ms.follow.p99} ms, queryable p99 ${r.latency_ms.queryable.p99} ms → ${r.sustained ? 'sustained' : 'NOT sustained'}`;

/** The relay's CPU per stored flow in a load-test step, over the given thread groups (run.ts:
 * `main` the JavaScript thread, `v8` V8's helpers, `node` libuv's pool, where chDB runs its calls). */
function relayCpuUsPerFlow(r: LoadtestReport, groups: readonly string[] = ['main', 'v8']): number {
  const relay = r.processes.find((p) => p.name === 'relay');
  const stored = r.throughput.stored_flows_per_s;
  if (!relay || stored <= 0) return 0;
  const pct = relay.threads.filter((t) => groups.includes(t.name)).reduce((s, t) => s + t.cpu_pct, 0);
  return Math.round((((pct / 100) * 1e6) / stored) * 10) / 10;
}

async function main(): Promise<void> {
  const started = Date.now();
  progress(`decode: ${DECODE_RUNS} runs × ${DECODE_RUN_S} s per mode`);
  const dec = benchDecode();
  progress(`decode ${dec.decodePerS.toLocaleString('en-US')}/s, decode+enrich ${dec.decodeEnrichPerS.toLocaleString('en-US')}/s`);

  progress('observe printing: compact output into a pipe, 3 runs');
  const printRuns: PrintRun[] = [];
  for (let i = 0; i < 3; i++) printRuns.push(await printRun(QUICK ? 100_000 : 300_000));
  const printPerCpuS = median(printRuns.map((r) => r.flowsPerCpuS));
  progress(
    `  ${printPerCpuS.toLocaleString('en-US')} flows per CPU second (wall ${printRuns.map((r) => r.flowsPerS.toLocaleString('en-US')).join(', ')} flows/s)`,
  );

  progress(`stages: CPU per flow of each stage on ${STAGE_ROWS} rows, one run`);
  const stages = await benchStages(STAGE_ROWS, (m) => progress(`  ${m}`));
  progress(
    `  collector ${stages.collector_cpu_us_per_record} µs/record, relay JS ${stages.relay_js_us_per_flow} µs/flow, ingest ÷ raw Native insert ${stages.ingest_native_ratio}`,
  );

  progress(`storage: ${STORAGE_ROWS} rows ingest, ${STORAGE_QUERY_ROWS} rows for queries`);
  const storage = await benchStorage({
    rows: STORAGE_ROWS,
    queryRows: STORAGE_QUERY_ROWS,
    quick: QUICK,
    storeDir: QUERY_STORE,
    log: (m) => progress(`  ${m}`),
  });

  const steps: LoadtestReport[] = [];
  let failures = 0;
  for (const rate of RATES) {
    progress(`load test: ${rate} records/s offered by ${COLLECTORS} collectors for ${DURATION_S} s`);
    const r = await runLoadtest({ nodes: COLLECTORS, rate, durationS: DURATION_S, warmupS: WARMUP_S, batchRows: 50_000 });
    steps.push(r);
    progress(`  ${summary(r)}`);
    if (!r.accounting_closes) throw new Error(`accounting does not close at ${rate} records/s: ${JSON.stringify(r.loss)}`);
    // Two failed steps in a row have shown the ceiling; higher rates would only take time.
    failures = r.sustained ? 0 : failures + 1;
    if (failures >= 2) break;
  }
  const sustained = steps.filter((s) => s.sustained);
  const atZeroLoss = sustained.length ? sustained[sustained.length - 1] : steps[0];

  progress(`collector RSS: 1 collector offered ${RSS_RATE} records/s for ${DURATION_S} s`);
  // The relay cannot keep up at this rate: the collector's backlog grows to its bound, which is
  // the memory that matters. No drain at the end: the unacknowledged rest is counted, not waited for.
  const rss = await runLoadtest({ nodes: 1, rate: RSS_RATE, durationS: DURATION_S, warmupS: WARMUP_S, batchRows: 50_000, drainTimeoutMs: 0 });
  const rssMb = rss.processes.find((p) => p.name === 'collector-1')!.rss_mb_peak;
  progress(`  collector RSS max ${rssMb} MB, CPU ${rss.processes.find((p) => p.name === 'collector-1')!.cpu_pct}%; ${summary(rss)}`);

  const overloadRate = 5 * (sustained.length ? atZeroLoss.config.rate_records_per_s : steps[0].config.rate_records_per_s);
  progress(`overload: ${COLLECTORS} collectors offered ${overloadRate} records/s (5× the zero-loss rate) for ${DURATION_S} s`);
  const overload = await runLoadtest({ nodes: COLLECTORS, rate: overloadRate, durationS: DURATION_S, warmupS: WARMUP_S, batchRows: 50_000, drainTimeoutMs: 0 });
  progress(`  longest insert gap ${overload.relay.longest_insert_gap_s} s; ${summary(overload)}`);

  let profile: LoadtestReport | undefined;
  if (args.profile) {
    const pdir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowscope-prof-'));
    try {
      progress(`profile: every process under --cpu-prof at ${atZeroLoss.config.rate_records_per_s} records/s for ${DURATION_S} s`);
      profile = await runLoadtest({
        nodes: COLLECTORS,
        rate: atZeroLoss.config.rate_records_per_s,
        durationS: DURATION_S,
        warmupS: WARMUP_S,
        batchRows: 50_000,
        profileDir: pdir,
      });
    } finally {
      await fs.rm(pdir, { recursive: true, force: true });
    }
  }

  progress(`perf ring: drain + decode through a real perf event array, zero-loss steps (${PERF_PAGES} pages/CPU)`);
  const perf = await benchPerfRing(QUICK);
  const perfMode = `wakeup-${PERF_WAKEUP_BYTES / 1024}KiB`;

  const result = {
    decode_records_per_s: dec.decodePerS,
    perf_ring_decode_records_per_s: perf.result ? Math.round(perf.result.drainDecode.recordsPerSec) : null,
    perf_ring_zero_loss_records_per_s: perf.result ? (perf.result.zeroLossRate[perfMode] ?? 0) : null,
    zero_loss_records_per_s: sustained.length ? atZeroLoss.config.rate_records_per_s : 0,
    relay_cpu_us_per_flow: relayCpuUsPerFlow(atZeroLoss),
    collector_cpu_us_per_record: stages.collector_cpu_us_per_record,
    ingest_native_ratio: stages.ingest_native_ratio,
    ingest_flows_per_s: storage.ingest_flows_per_s,
    ingest_ceiling_flows_per_s: storage.ingest_ceiling_flows_per_s,
    bytes_per_flow: storage.bytes_per_flow,
    query_drops_ns_24h_p99_ms: storage.query_drops_ns_24h_p99_ms,
    service_map_1h_p99_ms: storage.service_map_1h_p99_ms,
    follow_latency_p99_ms: atZeroLoss.latency_ms.follow.p99,
    queryable_latency_p99_ms: atZeroLoss.latency_ms.queryable.p99,
    collector_rss_mb_at_100k: rssMb,
    longest_insert_gap_s: overload.relay.longest_insert_gap_s,
    observe_print_flows_per_s: printPerCpuS,
    details: {
      relay_cpu_us_per_flow_by_thread: Object.fromEntries(['main', 'v8', 'node'].map((g) => [g, relayCpuUsPerFlow(atZeroLoss, [g])])),
      relay_cpu_us_per_flow_with_pool: relayCpuUsPerFlow(atZeroLoss, ['main', 'v8', 'node']),
      observe_print_runs: printRuns,
      quick: QUICK,
      collectors: COLLECTORS,
      step_duration_s: DURATION_S,
      decode_enrich_records_per_s: dec.decodeEnrichPerS,
      decode_runs: dec.decodeRuns,
      decode_enrich_runs: dec.decodeEnrichRuns,
      decode_mix: { records: dec.records, avg_bytes: Math.round(dec.avgBytes) },
      stages,
      storage_rows: STORAGE_ROWS,
      storage_query_rows: STORAGE_QUERY_ROWS,
      steps: steps.map((s) => ({
        ...s.throughput,
        loss: s.loss.total,
        sustained: s.sustained,
        backlog_at_window_end: s.backlog_at_window_end,
        follow_ms: s.latency_ms.follow,
        queryable_ms: s.latency_ms.queryable,
        processes: s.processes,
        bytes_per_flow_unmerged: s.storage.bytes_per_flow,
      })),
      rss_run: { processes: rss.processes, throughput: rss.throughput, loss: rss.loss },
      overload: {
        offered_records_per_s: overloadRate,
        flush_interval_ms: overload.config.flush_interval_ms,
        throughput: overload.throughput,
        loss: overload.loss,
        spilled_batches: overload.collectors_spilled_batches,
        relay: overload.relay,
        processes: overload.processes,
      },
      profile: profile ? { offered_records_per_s: profile.config.rate_records_per_s, processes: profile.processes } : undefined,
      perf_ring: perf.result ?? { skipped: perf.note },
      machine: { ...atZeroLoss.machine, date: new Date(started).toISOString() },
      elapsed_s: Math.round((Date.now() - started) / 1000),
    },
  };

  if (args.json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }

  const n = (x: number) => x.toLocaleString('en-US');
  const d = result.details;
  const out: string[] = [];
  out.push(
    `flowscope bench (${QUICK ? 'quick' : 'full'}) — ${d.machine.cpu}, ${d.machine.cores} cores, Node ${d.machine.node}, ${d.machine.date}, load average ${d.machine.loadavg_1m_at_start}`,
    '',
  );
  out.push('| key | value |', '|---|---|');
  for (const [k, v] of Object.entries(result)) if (k !== 'details') out.push(`| \`${k}\` | ${v === null ? `– (${perf.note})` : n(v as number)} |`);
  out.push(
    '',
    `decode runs ${dec.decodeRuns.map(n).join(', ')}; decode + enrich ${n(dec.decodeEnrichPerS)} records/s (runs ${dec.decodeEnrichRuns.map(n).join(', ')})`,
    '',
  );
  out.push(
    '| offered records/s | emitted | stored flows/s | loss | backlog start → end | follow p50 / p99 ms | queryable p50 / p99 ms | relay CPU % (µs/flow) | collector CPU % | result |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const s of steps) {
    const relay = s.processes.find((p) => p.name === 'relay')!;
    const coll = s.processes
      .filter((p) => p.name !== 'relay')
      .map((p) => p.cpu_pct)
      .join(' / ');
    out.push(
      `| ${n(s.config.rate_records_per_s)} | ${n(s.throughput.emitted_records_per_s)} | ${n(s.throughput.stored_flows_per_s)} | ${n(s.loss.total)} | ${n(s.backlog_at_window_start)} → ${n(s.backlog_at_window_end)} | ${s.latency_ms.follow.p50} / ${s.latency_ms.follow.p99} | ${s.latency_ms.queryable.p50} / ${s.latency_ms.queryable.p99} | ${relay.cpu_pct} (${relay.cpu_us_per_flow}) | ${coll} | ${s.sustained ? 'sustained' : s.zero_loss ? 'zero loss, fell behind' : 'loss'} |`,
    );
  }
  if (profile) {
    for (const p of profile.processes) {
      if (!p.profile) continue;
      out.push(
        '',
        `${p.name} at ${n(profile.config.rate_records_per_s)} records/s: ${p.cpu_pct}% CPU, ${n(p.profile.totalMs)} ms sampled, main thread ${p.profile.idlePct}% idle; top self time:`,
        '',
      );
      out.push('| self % | function |', '|---|---|');
      for (const h of p.profile.functions) out.push(`| ${h.selfPct} | \`${h.name}\` |`);
      out.push('', '| self % | file |', '|---|---|');
      for (const h of p.profile.files) out.push(`| ${h.selfPct} | \`${h.name}\` |`);
    }
  }
  out.push('', `(${d.elapsed_s} s)`);
  console.log(out.join('\n'));
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
