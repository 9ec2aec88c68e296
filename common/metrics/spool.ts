// The spool gauges (a disk buffer for batches the next stage has not accepted yet). Defined
// here so every component with a spool exports the same names: call registerSpoolMetrics with
// a function reading the spool's current size.
import type { Registry } from 'prom-client';
import { ObservedMetric } from './family.js';

export interface SpoolSize { bytes: number; batches: number }

export function registerSpoolMetrics(registry: Registry, read: () => SpoolSize): void {
  new ObservedMetric('flowscope_spool_bytes', 'Bytes held in the spool, waiting for the next stage', 'gauge', () => read().bytes).register(registry);
  new ObservedMetric('flowscope_spool_batches', 'Batches held in the spool, waiting for the next stage', 'gauge', () => read().batches).register(registry);
}
