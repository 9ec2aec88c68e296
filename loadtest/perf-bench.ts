// `npm run bench` (kernel section), also `node dist-test/loadtest/perf-bench.js [--quick] [--json]`:
// the real perf ring, fed by a BPF program (collector/bpf/emit.bpf.c via BPF_PROG_TEST_RUN with
// `repeat`) with byte-exact Cilium records, read by the native reader and decoded.
//
//  1. drain + decode: the ring is filled with N records (not timed), then one synchronous drain
//     that slices and decodes every record is timed → records/s on this process's one core.
//  2. zero-loss rate: a producer process writes records at a paced rate into a pinned perf array
//     (its own CPU's ring, --pages per CPU, default 64 as Cilium's) while this process reads and decodes
//     through libuv as the collector does; each step reports delivered and lost samples. The
//     highest step with zero loss is the figure.
//
// Needs root and the built kernel sources; prints why and exits 0 when they are missing (exit 1
// under CI=true).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MonitorDecoder } from '../collector/decode/decoder.js';
import { encodeDrop, encodeTrace, encodePolicyVerdict } from '../collector/records/monitor.js';
import { frame } from '../collector/records/frame.js';
import { SYN, ACK } from '../collector/records/packet.js';
import { bpfObject, loadPerfNative, type PerfNative } from '../collector/perf/native.js';
import { PerfRingReader } from '../collector/perf/reader.js';
import { ciliumUnavailable } from '../collector/sources/kernel-env.js';
import type { RawRecord } from '../collector/source.js';

const progress = (msg: string) => process.stderr.write(`[perf-bench] ${msg}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small mix of typical records (~100–170 bytes each, as Cilium writes them). */
export function recordMix(): Uint8Array[] {
  const syn = frame({ src: '10.244.1.5', dst: '10.244.2.9', tcp: { sport: 43210, dport: 8080, flags: SYN } });
  const ack = frame({ src: '10.244.2.9', dst: '10.244.1.5', tcp: { sport: 8080, dport: 43210, flags: SYN | ACK } });
  const dns = frame({ src: '10.244.1.5', dst: '10.96.0.10', udp: { sport: 5353, dport: 53, payload: new Uint8Array(40) } });
  return [
    encodeTrace({ obsPoint: 5, reason: 0, srcLabel: 1234, dstLabel: 5678, source: 12, perfPad: true }, syn),
    encodeTrace({ obsPoint: 0, reason: 2, srcLabel: 5678, dstLabel: 1234, perfPad: true }, ack),
    encodeDrop({ reason: 133, srcLabel: 1234, dstLabel: 5678, source: 12, perfPad: true }, syn),
    encodePolicyVerdict({ remoteLabel: 5678, verdict: 0, dstPort: 53, proto: 17, ingress: false, perfPad: true }, dns),
  ];
}

function decodingSink(decoder: MonitorDecoder, counts: { records: number; flows: number; lost: number }) {
  return {
    records(batch: RawRecord[]) {
      counts.records += batch.length;
      for (let i = 0; i < batch.length; i++) if (decoder.decode(batch[i]) !== null) counts.flows++;
    },
    lost(_cpu: number, n: number) {
      counts.lost += n;
    },
  };
}

async function drainDecode(native: PerfNative, emitPath: string, quick: boolean): Promise<{ recordsPerSec: number; runs: number[]; batchRecords: number }> {
  const obj = native.openObject(emitPath, {});
  const mix = recordMix().map((r) => Buffer.from(r));
  const perRecord = 8 + Math.max(...mix.map((r) => Math.ceil((r.length + 4) / 8) * 8)); // perf framing included
  const pages = 4096; // 16 MiB per CPU ring: the whole burst fits, so the drain alone is timed
  const fill = Math.floor((pages * 4096 * 0.8) / perRecord / mix.length) * mix.length;
  const counts = { records: 0, flows: 0, lost: 0 };
  const decoder = new MonitorDecoder({ nodeName: 'bench' });
  const reader = new PerfRingReader(native, { fd: native.mapFd(obj, 'cilium_events'), pages, maxBatchBytes: 1 << 20, drainIntervalMs: 0 });
  const runs: number[] = [];
  try {
    reader.start(decodingSink(decoder, counts));
    await sleep(20);
    for (let run = 0; run < (quick ? 3 : 5); run++) {
      // Fill while the event loop is blocked in this loop: the reader cannot run until the drain.
      for (const r of mix) native.testRun(obj, 'emit_record', r, fill / mix.length);
      const before = counts.records;
      const t0 = process.hrtime.bigint();
      reader.drain();
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      const n = counts.records - before;
      if (n !== fill) throw new Error(`drained ${n} of ${fill} records (lost ${counts.lost})`);
      if (run > 0) runs.push(n / dt); // first run warms up the JIT
    }
  } finally {
    reader.close();
    native.closeObject(obj);
  }
  return { recordsPerSec: median(runs), runs, batchRecords: fill };
}

// Producer process: argv = emit object, pin path, rate, seconds. Emits in chunks of at most 64
// records as time allows; after a stall (shared machine) it does not catch up with more than
// 2 ms worth at once, so every step offers a paced rate, not ring-sized bursts. The achieved
// rate (sent / seconds) is what the step reports.
async function producerMain(native: PerfNative): Promise<void> {
  const [objPath, pin, rateS, secondsS] = process.argv.slice(3);
  const rate = Number(rateS),
    seconds = Number(secondsS);
  const obj = native.openObject(objPath, { cilium_events: pin });
  const mix = recordMix().map((r) => Buffer.from(r));
  const maxBacklog = Math.max(64, Math.round(rate * 0.002));
  const start = process.hrtime.bigint();
  let sent = 0,
    skipped = 0,
    i = 0,
    spins = 0;
  for (;;) {
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (elapsed >= seconds) break;
    let due = Math.floor(rate * elapsed) - sent - skipped;
    if (due > maxBacklog) {
      skipped += due - maxBacklog;
      due = maxBacklog;
    }
    if (due > 0) {
      const n = Math.min(due, 64);
      native.testRun(obj, 'emit_record', mix[i++ % mix.length], n);
      sent += n;
    } else if (++spins % 64 === 0) {
      await new Promise((r) => setImmediate(r));
    }
  }
  native.closeObject(obj);
  process.stdout.write(`${JSON.stringify({ sent })}\n`);
}

async function zeroLossStep(native: PerfNative, emitPath: string, rate: number, seconds: number, wakeupBytes: number, pages: number): Promise<Step> {
  const dir = `/sys/fs/bpf/flowscope-bench-${randomBytes(4).toString('hex')}`;
  mkdirSync(dir);
  const pin = `${dir}/cilium_events`;
  const obj = native.openObject(emitPath, { cilium_events: pin }); // creates and pins the map
  const counts = { records: 0, flows: 0, lost: 0 };
  const reader = new PerfRingReader(native, { path: pin, pages, wakeupBytes });
  try {
    reader.start(decodingSink(new MonitorDecoder({ nodeName: 'bench' }), counts));
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--producer', emitPath, pin, String(rate), String(seconds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise<void>((res, rej) => child.on('exit', (code) => (code === 0 ? res() : rej(new Error(`producer exited ${code}`)))));
    const { sent } = JSON.parse(out) as { sent: number };
    // Lost counts surface with the next sample; everything else is in the ring by now.
    const deadline = Date.now() + 3000;
    while (counts.records + counts.lost < sent && Date.now() < deadline) {
      reader.drain();
      await sleep(20);
    }
    const st = reader.stats();
    return {
      rate,
      achieved: Math.round(sent / seconds),
      sent,
      delivered: counts.records,
      lost: Math.max(counts.lost, sent - counts.records),
      wakeups: st.wakeups,
      wakeupBytes,
      pages,
    };
  } finally {
    reader.close();
    native.closeObject(obj);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Step {
  rate: number;
  achieved: number;
  sent: number;
  delivered: number;
  lost: number;
  wakeups: number;
  wakeupBytes: number;
  pages: number;
}

export interface PerfBenchResult {
  drainDecode: { recordsPerSec: number; runs: number[]; batchRecords: number };
  steps: Step[];
  /** Highest achieved producer rate with zero loss, per wake-up mode. */
  zeroLossRate: Record<string, number>;
}

async function main(): Promise<void> {
  const native = loadPerfNative();
  if (process.argv[2] === '--producer') {
    if (!native.ok) throw new Error(native.reason);
    await producerMain(native.native);
    return;
  }
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      rates: { type: 'string' },
      pages: { type: 'string', default: '64' },
      wakeup: { type: 'string' },
    },
    strict: true,
  });
  const emit = bpfObject('emit');
  const why = !native.ok ? native.reason : !emit.ok ? emit.reason : ciliumUnavailable('/sys/fs/bpf');
  if (why !== null || !native.ok || !emit.ok) {
    progress(`skipped: ${why}`);
    process.exitCode = process.env.CI === 'true' ? 1 : 0;
    return;
  }
  progress('drain + decode through the real perf ring (one core)');
  const dd = await drainDecode(native.native, emit.path, args.quick!);
  progress(`  ${Math.round(dd.recordsPerSec).toLocaleString('en')} records/s (median of ${dd.runs.length} drains of ${dd.batchRecords} records)`);
  const rates = (args.rates ?? (args.quick ? '100000,200000' : '100000,200000,300000,400000,600000')).split(',').map(Number);
  const steps: Step[] = [];
  const zeroLossRate: Record<string, number> = {};
  const pages = Number(args.pages);
  if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0) throw new Error('--pages must be a power of two');
  for (const wakeupBytes of args.wakeup === undefined ? [0, Math.min(64 * 1024, (pages * 4096) / 4)] : args.wakeup.split(',').map(Number)) {
    const mode = wakeupBytes === 0 ? 'wakeup-per-sample' : `wakeup-${wakeupBytes / 1024}KiB`;
    zeroLossRate[mode] = 0;
    progress(`zero-loss steps, ${mode}, ${pages} pages/CPU`);
    for (const rate of rates) {
      const s = await zeroLossStep(native.native, emit.path, rate, args.quick ? 2 : 4, wakeupBytes, pages);
      steps.push(s);
      progress(
        `  offered ${rate.toLocaleString('en')}/s, achieved ${s.achieved.toLocaleString('en')}/s: sent ${s.sent}, delivered ${s.delivered}, lost ${s.lost}, reader wake-ups ${s.wakeups}`,
      );
      if (s.lost === 0) zeroLossRate[mode] = Math.max(zeroLossRate[mode], s.achieved);
    }
  }
  const result: PerfBenchResult = { drainDecode: dd, steps, zeroLossRate };
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const zl = Object.entries(zeroLossRate)
      .map(([m, r]) => `${m} ${r.toLocaleString('en')}`)
      .join(', ');
    process.stdout.write(
      `\nperf ring (kernel): drain+decode ${Math.round(dd.recordsPerSec).toLocaleString('en')} records/s on one core; highest zero-loss rate (records/s): ${zl}\n`,
    );
  }
}

await main();
