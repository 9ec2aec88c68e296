// The collector's V8 heap settings. A collector allocates about 2 KB per record that dies within
// a decode pass, holds little (tens of MB: the ring's and the backlog's blocks), and runs beside
// the workloads it watches, so its heap is tuned for a small footprint rather than V8's defaults,
// which let a process at 100k records/s reserve 2 × 16 MB of young generation and an old
// generation with room for twice its live data (docs/benchmarks.md, "collector heap").

import v8 from 'node:v8';

/**
 * Node flags for a collector process. V8 sizes the young generation when the process starts, so
 * these go on node's command line or in NODE_OPTIONS: the DaemonSet sets NODE_OPTIONS, and
 * `flowscope up` and the load test start their collectors with them.
 */
export const COLLECTOR_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=4']);

/**
 * Environment for a collector process, read by glibc's allocator when the process starts (the
 * DaemonSet, `flowscope up` and the load test set it). A fixed mmap threshold (glibc's initial
 * 128 KiB): glibc otherwise raises the threshold to the size of each mmapped block freed, and a
 * collector frees a block of about 1 MB per batch (gRPC frames every message into a new buffer),
 * so from the first batch on they came from the heap, whose freed memory the process kept.
 * Measured at 100k records/s: peak RSS 130–135 MB against 139–147 (docs/benchmarks.md).
 */
export const COLLECTOR_ENV: Readonly<Record<string, string>> = Object.freeze({ MALLOC_MMAP_THRESHOLD_: '131072' });

/**
 * Flags V8 reads as it runs, set by the collector itself before its pipeline allocates:
 *  * no allocation-site pretenuring: V8 moves an allocation site to old-generation allocation once
 *    most of its objects survive a scavenge, and records queued for decoding live about that
 *    long; they then all died in the old generation and waited for a full GC;
 *  * a full GC once the old generation grew by half (V8: up to 4× its live size at the last one):
 *    what the old generation holds beyond the ring and the backlog is garbage, and buffers
 *    promoted there (spilled blocks, source batches) are freed only by a full GC.
 */
export const COLLECTOR_RUNTIME_FLAGS: readonly string[] = Object.freeze(['--no-allocation-site-pretenuring', '--heap-growing-percent=50']);

/** Applies the collector's run-time heap flags to this process (see COLLECTOR_RUNTIME_FLAGS). */
export function tuneCollectorHeap(): void {
  for (const f of COLLECTOR_RUNTIME_FLAGS) v8.setFlagsFromString(f);
}
