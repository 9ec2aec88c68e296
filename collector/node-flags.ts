// The V8 heap settings a collector runs with. A collector's live heap is small and bounded (the
// ring, the decode queue, enrichment state), but it allocates a Flow per record: with V8's
// defaults a busy collector lets its young generation grow to 32 MB and its old generation to
// two or three times what is live before collecting, for an RSS near 300 MB at 100k records/s.
// A 4 MB semi-space and old-generation growth of 20 % over the live size keep it near 170 MB at
// about the same CPU (docs/benchmarks.md). The growth limit follows what is live, so a large
// cluster's enrichment state still fits: there is no hard heap cap to crash into.
//
// `--heap-growing-percent` is not allowed in NODE_OPTIONS, so these go on node's command line:
// the DaemonSet's command, `flowscope up` and the load test start collectors with them.
export const COLLECTOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=20'];

/** The collector flags this process was not started with (empty when it runs with them all). */
export function missingCollectorNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  // V8 takes `--max_semi_space_size` as well as `--max-semi-space-size`.
  const given = new Set(execArgv.map((a) => a.replace(/_/g, '-')));
  return COLLECTOR_NODE_FLAGS.filter((f) => !given.has(f));
}
