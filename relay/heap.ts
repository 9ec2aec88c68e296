// The relay's V8 heap setting. Its JavaScript heap is small (≈ 16 MB live) while ingest moves
// tens of MB/s through ArrayBuffers (grpc-js messages, HTTP/2 chunks). V8 counts external memory
// allocated since the last full GC against the old generation's limit, which it sets from the
// live heap: at 50k flows/s that started a full GC every ~0.3 s (64 in 20 s; the relay's main and
// V8 threads 3.6 µs per flow). A limit of 4× the live heap (≈ 64 MB) left 8–11 full GCs in 20 s
// and 2.4–2.5 µs per flow (docs/benchmarks.md, "the relay's full GCs").

import v8 from 'node:v8';

/** Flags V8 reads as it runs, set by the relay for its process before it serves. */
export const RELAY_RUNTIME_FLAGS: readonly string[] = Object.freeze(['--heap-growing-percent=300']);

export function tuneRelayHeap(): void {
  for (const f of RELAY_RUNTIME_FLAGS) v8.setFlagsFromString(f);
}
