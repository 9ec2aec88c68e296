// Prometheus view of the spool (prom-client default registry; the /metrics server serves it).
// Values are read from the sink's counters at scrape time, so the write path pays nothing.
import { Counter, Gauge, register } from 'prom-client';
import type { SpoolingSink } from './spooling-sink.js';

export function registerSpoolMetrics(sink: SpoolingSink): void {
  if (register.getSingleMetric('flowscope_relay_spool_bytes')) return; // one relay per process
  new Gauge({
    name: 'flowscope_relay_spool_bytes',
    help: 'Bytes of spool segment files on disk',
    collect() {
      this.set(sink.spoolBytes);
    },
  });
  new Gauge({
    name: 'flowscope_relay_spool_batches',
    help: 'Relay batches waiting in the spool for ClickHouse',
    collect() {
      this.set(sink.spooledRecords);
    },
  });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter('flowscope_relay_spooled_batches_total', 'Relay batches written to the spool because an insert failed or timed out', () => sink.stats.spooledBatches);
  counter('flowscope_relay_spool_replayed_batches_total', 'Spooled batches replayed into ClickHouse', () => sink.stats.replayedBatches);
  counter('flowscope_relay_spool_full_waits_total', 'Batches that waited for spool room (ingest paused meanwhile)', () => sink.stats.spoolFullWaits);
}
