// The load-test report as Markdown (for --out and the terminal).
import type { LoadtestReport } from './run.js';

const n = (x: number) => x.toLocaleString('en-US');

export function reportMarkdown(r: LoadtestReport): string {
  const c = r.config;
  const l = r.loss;
  const lat = r.latency_ms;
  const out: string[] = [];
  out.push(`# flowscope load test: ${c.nodes} collectors × ${n(c.per_node_records_per_s)} records/s for ${c.duration_s} s`, '');
  out.push(
    `${r.machine.date} — ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, load average ${r.machine.loadavg_1m_at_start} at start; ` +
      `warm-up ${c.warmup_s} s, measured window ${r.window.seconds} s from ${r.window.start}, ${n(c.batch_rows)} rows per insert` +
      (c.collector_node_flags.length || Object.keys(c.collector_env).length
        ? `; collectors run with \`${[...Object.entries(c.collector_env).map(([k, v]) => `${k}=${v}`), 'node', ...c.collector_node_flags].join(' ')}\`.`
        : '.'),
    '',
  );
  out.push(
    `**Result: ${r.sustained ? 'sustained (zero loss, kept up)' : r.zero_loss ? 'zero loss but fell behind (backlog grew)' : 'loss'}; accounting ${r.accounting_closes ? 'closes' : 'DOES NOT close'}.**`,
    '',
  );

  out.push('## Throughput (measured window)', '', '| | per second |', '|---|---|');
  out.push(`| offered records | ${n(r.throughput.offered_records_per_s)} |`);
  out.push(`| emitted records (sources) | ${n(r.throughput.emitted_records_per_s)} |`);
  out.push(`| decoded flows (collectors) | ${n(r.throughput.decoded_flows_per_s)} |`);
  out.push(`| stored flows (relay inserts) | ${n(r.throughput.stored_flows_per_s)} |`);
  out.push(`| acknowledged flows (collectors) | ${n(r.throughput.acked_flows_per_s)} |`);
  out.push(
    '',
    `Backlog (unacknowledged in collectors + accepted, not yet inserted): ${n(r.backlog_at_window_start)} flows at the start of the window, ${n(r.backlog_at_window_end)} at its end.`,
    '',
  );

  out.push('## Accounting (whole run)', '', '| stage | count |', '|---|---|');
  out.push(`| records offered (sources) | ${n(r.totals.records_offered)} |`);
  out.push(`| records emitted (read by the pipeline) | ${n(r.totals.records_emitted)} |`);
  out.push(`| flows decoded | ${n(r.totals.flows_decoded)} |`);
  out.push(`| flows sent / received by relay | ${n(r.totals.flows_sent)} / ${n(r.totals.flows_received_by_relay)} |`);
  out.push(`| **flows stored** | **${n(r.totals.flows_stored)}** |`);
  out.push(`| lost: perf ring (no room in the decode queue, or overwritten by the kernel) | ${n(l.perf_ring)} |`);
  out.push(`| lost: decode queue full | ${n(l.decode_queue)} |`);
  out.push(
    `| lost: decode (truncated ${n(l.decode.truncated)}, unknown type ${n(l.decode.unknown_type)}, unknown version ${n(l.decode.unknown_version)}, bad length ${n(l.decode.bad_length)}, bad packet ${n(l.decode.bad_packet)}, not a flow ${n(l.decode.not_a_flow)}) | ${n(l.decode.total)} |`,
  );
  out.push(`| lost: shipper dropped (backlog full) | ${n(l.shipper_dropped)} |`);
  out.push(`| (not lost) batches spilled to disk by collectors | ${n(r.collectors_spilled_batches)} |`);
  out.push(`| lost: unacknowledged at collector exit, never stored | ${n(l.shipper_abandoned_at_exit)} |`);
  out.push(`| lost: accepted by relay, not stored | ${n(l.relay_not_stored)} |`);
  out.push(`| unaccounted (must be 0) | ${n(l.unaccounted)} |`, '');

  out.push('## Latency (ms, measured window)', '', '| | samples | p50 | p90 | p99 | max |', '|---|---|---|---|---|---|');
  out.push(
    `| record → \`--follow\` client (drop events) | ${n(lat.follow.count)} | ${n(lat.follow.p50)} | ${n(lat.follow.p90)} | ${n(lat.follow.p99)} | ${n(lat.follow.max)} |`,
  );
  out.push(
    `| record → queryable in ClickHouse (probe) | ${n(lat.queryable.count)} | ${n(lat.queryable.p50)} | ${n(lat.queryable.p90)} | ${n(lat.queryable.p99)} | ${n(lat.queryable.max)} |`,
  );
  out.push(`| shipper send → durable ack | ${n(lat.ack.count)} | ${n(lat.ack.p50)} | ${n(lat.ack.p90)} | ${n(lat.ack.p99)} | ${n(lat.ack.max)} |`);
  out.push(
    '',
    `Follow client: ${n(r.follow.flows)} flows, ${n(r.follow.lost_events)} reported lost${r.follow.error ? `, error: ${r.follow.error}` : ''}. ` +
      `Relay: ${n(r.relay.insert_errors)} insert errors (retried), ${n(r.relay.duplicate_batches)} duplicate batches, ${n(r.relay.protocol_errors)} protocol errors; ` +
      `longest stretch of the window without a completed insert: ${r.relay.longest_insert_gap_s} s.`,
    '',
  );

  out.push(
    '## Processes (measured window)',
    '',
    '| process | CPU % of one core | CPU µs per flow | RSS max MB | RSS median MB | RSS peak MB (whole run) | CPU % by thread |',
    '|---|---|---|---|---|---|---|',
  );
  for (const p of r.processes) {
    const threads = p.threads
      .slice(0, 6)
      .map((t) => `${t.name} ${t.cpu_pct}`)
      .join(', ');
    out.push(`| ${p.name} | ${p.cpu_pct} | ${n(p.cpu_us_per_flow)} | ${p.rss_mb_max} | ${p.rss_mb_p50} | ${p.rss_mb_peak} | ${threads} |`);
  }
  out.push(
    '',
    'CPU µs per flow: relay per stored flow, collector per record emitted (its own synthetic source included). ' +
      "Threads: `main` is the JavaScript thread; `v8` are V8's helper threads (garbage collection, compilers); `node` are libuv's pool (chDB runs its queries and inserts there) and any other unnamed thread started later; the other names are chDB's ClickHouse thread pools.",
  );
  const mem = r.processes.filter((p) => p.memory_at_peak_mb !== undefined);
  if (mem.length > 0) {
    out.push('', '| collector at its highest RSS | RSS MB | V8 heap used / total MB | ArrayBuffers MB | external MB |', '|---|---|---|---|---|');
    for (const p of mem) {
      const m = p.memory_at_peak_mb!;
      out.push(`| ${p.name} | ${m.rss} | ${m.heap_used} / ${m.heap_total} | ${m.array_buffers} | ${m.external} |`);
    }
  }
  for (const p of r.processes) {
    if (!p.profile) continue;
    out.push(
      '',
      `### CPU profile: ${p.name} (${n(p.profile.totalMs)} ms sampled, main thread ${p.profile.idlePct}% idle)`,
      '',
      '| self % | function |',
      '|---|---|',
    );
    for (const h of p.profile.functions) out.push(`| ${h.selfPct} | \`${h.name}\` |`);
    out.push('', '| self % | file |', '|---|---|');
    for (const h of p.profile.files) out.push(`| ${h.selfPct} | \`${h.name}\` |`);
  }
  out.push('', '## Storage', '');
  out.push(
    `${n(r.storage.rows)} rows in ${n(r.storage.parts)} active parts, ${n(r.storage.bytes_on_disk)} bytes on disk: **${r.storage.bytes_per_flow} bytes/flow** ` +
      `(${r.storage.uncompressed_bytes_per_flow} uncompressed; parts as left by the run, not merged by OPTIMIZE)${r.storage.data_dir ? `; data kept in \`${r.storage.data_dir}\`` : ''}.`,
    '',
  );
  out.push(`(${r.elapsed_s} s)`);
  return out.join('\n') + '\n';
}
