// The load-test harness end to end at a small rate (2 collectors, 3 s): the report must be
// complete and its accounting must close, so the instrument cannot rot unnoticed. No assertion
// on any rate or latency value: those are measurements, not properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoadtest } from './run.js';
import { reportMarkdown } from './report.js';
import { percentiles } from './percentiles.js';
import { parseStartupThreads, readProcSample, readThreadCpu, summarizeUsage, threadUsage } from './proc-stats.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loadtest.js');

test('percentiles: nearest rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
  assert.deepEqual(percentiles(xs), { count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  assert.deepEqual(percentiles([]), { count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  assert.equal(percentiles([7]).p99, 7);
});

test('proc stats: this process has CPU time and RSS; usage is summarised over a window', () => {
  const a = readProcSample(process.pid);
  assert.ok(a, '/proc/self readable');
  assert.ok(a.rssBytes > 0 && a.cpuSeconds > 0);
  assert.ok(a.hwmBytes >= a.rssBytes, 'the peak RSS is at least the current RSS');
  const samples = [
    { t: 0, cpuSeconds: 10, rssBytes: 100 * 2 ** 20, hwmBytes: 100 * 2 ** 20 },
    { t: 1000, cpuSeconds: 10.5, rssBytes: 300 * 2 ** 20, hwmBytes: 350 * 2 ** 20 },
    { t: 2000, cpuSeconds: 11, rssBytes: 200 * 2 ** 20, hwmBytes: 350 * 2 ** 20 },
    // After the window: the peak covers the whole run.
    { t: 3000, cpuSeconds: 11.5, rssBytes: 200 * 2 ** 20, hwmBytes: 400 * 2 ** 20 },
  ];
  assert.deepEqual(summarizeUsage(samples, 0, 2000), { cpu_pct: 50, rss_mb_max: 300, rss_mb_p50: 200, rss_mb_peak: 400 });
  assert.equal(readProcSample(2 ** 22 + 12345), null, 'a process that does not exist');
  const threads = readThreadCpu(process.pid);
  assert.ok((threads.get('main') ?? 0) > 0, 'the main thread has CPU time');
  const later = new Map([...threads].map(([k, v]) => [k, v + (k === 'main' ? 0.5 : 0)]));
  assert.deepEqual(threadUsage(threads, later, 1)[0], { name: 'main', cpu_pct: 50 });
  // Threads named `node` that the process had at startup are V8's: grouped as `v8`.
  const helpers = fs
    .readdirSync(`/proc/${process.pid}/task`)
    .filter((t) => Number(t) !== process.pid && fs.readFileSync(`/proc/${process.pid}/task/${t}/comm`, 'utf8').trim() === 'node');
  assert.ok(helpers.length > 0, 'this process has unnamed helper threads');
  const grouped = readThreadCpu(process.pid, parseStartupThreads(`${process.pid},${helpers.join(',')},x,`));
  assert.equal(grouped.has('v8'), true);
  assert.equal(grouped.has('node'), false, 'every unnamed helper was listed as a startup thread');
  assert.deepEqual([...parseStartupThreads(undefined)], []);
});

test('loadtest CLI: bad flags exit 2 with the usage', () => {
  for (const args of [['--nodes', '0'], ['--rate', 'fast'], ['--duration', '-1'], ['--rate', '1', '--nodes', '3'], ['--bogus'], ['extra']]) {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /Error: .*\n\nUsage: loadtest/, args.join(' '));
  }
});

test('loadtest smoke run: 2 collectors, small rate — complete report, accounting closes', async () => {
  const r = await runLoadtest({ nodes: 2, rate: 400, durationS: 3, warmupS: 1, batchRows: 50_000 });

  // Accounting: every record emitted is stored or counted as lost at some stage.
  const counted = r.loss.decode.total + r.loss.shipper_dropped + r.loss.shipper_abandoned_at_exit;
  assert.equal(r.loss.unaccounted, 0);
  assert.equal(r.totals.records_emitted, r.totals.flows_stored + counted);
  assert.equal(r.totals.records_offered, r.totals.records_emitted + r.loss.perf_ring + r.loss.decode_queue);
  assert.equal(r.accounting_closes, true);
  // At 200 records/s per collector nothing may be lost anywhere.
  assert.equal(r.zero_loss, true, JSON.stringify(r.loss));
  assert.ok(r.totals.records_emitted > 0);
  assert.equal(r.totals.flows_received_by_relay, r.totals.flows_stored);
  assert.equal(r.totals.flows_sent, r.totals.flows_decoded);

  // Completeness: every figure was measured.
  assert.equal(r.config.nodes, 2);
  assert.equal(r.config.rate_records_per_s, 400);
  for (const [k, v] of Object.entries(r.throughput)) assert.ok(Number.isFinite(v) && v > 0, `throughput.${k} = ${v}`);
  assert.ok(r.latency_ms.follow.count > 0, 'follow client received flows in the window');
  assert.ok(r.latency_ms.queryable.count > 0, 'queryable probe saw new rows in the window');
  assert.ok(r.latency_ms.ack.count > 0);
  for (const p of Object.values(r.latency_ms)) assert.ok(p.p50 <= p.p99 && p.p99 <= p.max);
  assert.equal(r.follow.error, undefined);
  assert.equal(r.relay.insert_errors, 0);
  assert.equal(r.relay.protocol_errors, 0);
  assert.ok(r.relay.longest_insert_gap_s >= 0);
  assert.deepEqual(
    r.processes.map((p) => p.name),
    ['relay', 'collector-1', 'collector-2'],
  );
  for (const p of r.processes) {
    assert.ok(p.rss_mb_max > 0 && p.rss_mb_peak >= p.rss_mb_max && p.cpu_pct > 0 && p.cpu_us_per_flow > 0, `${p.name}: ${JSON.stringify(p)}`);
    assert.ok(
      p.threads.some((t) => t.name === 'main' && t.cpu_pct > 0),
      `${p.name} main thread CPU`,
    );
  }
  for (const p of r.processes.slice(1)) {
    const m = p.memory_at_peak_mb;
    assert.ok(m && m.rss > 0 && m.heap_used > 0 && m.heap_used <= m.heap_total, `${p.name} memory: ${JSON.stringify(m)}`);
  }
  assert.equal(r.storage.rows, r.totals.flows_stored);
  assert.ok(r.storage.bytes_on_disk > 0 && r.storage.bytes_per_flow > 0 && r.storage.parts > 0);

  const md = reportMarkdown(r);
  for (const section of ['## Throughput', '## Accounting', '## Latency', '## Processes', '## Storage']) assert.ok(md.includes(section), section);
  assert.match(md, /accounting closes/);
});
