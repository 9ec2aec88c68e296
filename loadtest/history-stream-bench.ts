// Relay memory while one client streams a huge history: a store of --rows flows is generated in
// the engine (INSERT … SELECT from a template of realistic flows, loadtest/storage-store-gen.ts,
// reused when the directory already holds them), a `flowscope relay` process serves it, and one
// GetFlows call reads every stored flow (since 3 days ago, up to now: a reused store spans 25 h before its generation). The relay's RSS is sampled
// from /proc every 250 ms. If the relay buffered results, RSS would grow with the rows streamed;
// a flat line after the first pages means memory is bounded by the page size and the stream's
// flow control.
//
//   node dist-test/loadtest/history-stream-bench.js --rows 10000000 [--store DIR] [--keep]
//
// Prints one JSON object on stdout; progress on stderr.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateStore } from './storage-store-gen.js';
import { realisticFlows } from '../testing/realistic-flows.js';
import { freePort, startProc, waitHealthy } from '../testing/harness.js';
import { ObserverApiClient } from '../api/client.js';

const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '10000000' }, store: { type: 'string' }, keep: { type: 'boolean', default: false } },
  strict: true,
});
const ROWS = Number(args.rows);
const STORE = args.store ?? path.join(os.tmpdir(), `flowscope-history-store-${ROWS}`);
const log = (m: string) => process.stderr.write(`history-stream: ${m}\n`);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const t0 = performance.now();
await generateStore(STORE, ROWS, realisticFlows(20_000, { nodes: 4, seed: 5, spanMs: 10 * 60_000 }), log);
const generateS = (performance.now() - t0) / 1000;

const port = await freePort();
const relay = startProc(['relay', '--listen', `127.0.0.1:${port}`, '--data-dir', STORE, '--metrics-addr', 'none'], { FLOWSCOPE_LOG_LEVEL: 'warn' });
try {
  await waitHealthy(`127.0.0.1:${port}`, 300_000);
  const pid = relay.proc.pid!;
  const idleMb = rssMb(pid);
  const samples: Array<{ s: number; flows: number; rssMb: number }> = [];
  let flows = 0;
  const start = performance.now();
  const timer = setInterval(() => samples.push({ s: (performance.now() - start) / 1000, flows, rssMb: rssMb(pid) }), 250);
  const client = new ObserverApiClient(`127.0.0.1:${port}`, 3_600_000);
  try {
    await client.getFlows({ since: { seconds: Math.floor(Date.now() / 1000) - 72 * 3600, nanos: 0 } }, (r) => {
      if (r.flow) flows++;
    });
  } finally {
    clearInterval(timer);
    client.close();
  }
  const seconds = (performance.now() - start) / 1000;
  samples.push({ s: seconds, flows, rssMb: rssMb(pid) });
  const peak = Math.max(...samples.map((x) => x.rssMb));
  // RSS once a tenth of the rows went through, and at the end: equal when memory does not grow with the result.
  const atTenth = samples.find((x) => x.flows >= flows / 10)?.rssMb ?? 0;
  const at = (q: number) => samples.find((x) => x.flows >= flows * q)?.rssMb ?? 0;
  const result = {
    rows: ROWS,
    flows_streamed: flows,
    generate_s: Math.round(generateS),
    stream_s: Number(seconds.toFixed(1)),
    flows_per_s: Math.round(flows / seconds),
    relay_rss_mb: {
      idle: Math.round(idleMb),
      at_10pct: Math.round(atTenth),
      at_50pct: Math.round(at(0.5)),
      at_90pct: Math.round(at(0.9)),
      end: Math.round(samples[samples.length - 1].rssMb),
      peak: Math.round(peak),
    },
    samples: samples.length,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (flows !== ROWS) {
    log(`streamed ${flows} of ${ROWS} stored flows`);
    process.exitCode = 1;
  }
} finally {
  const code = await relay.stop();
  if (code !== 0) log(`relay exited ${code}: ${relay.output().slice(-2000)}`);
  if (!args.keep && !args.store) fs.rmSync(STORE, { recursive: true, force: true });
}
