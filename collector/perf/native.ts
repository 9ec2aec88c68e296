// Loads the native perf-ring addon and locates the compiled BPF objects. Both are built at
// `npm install` by scripts/build-kernel.sh; when that could not happen the reason it wrote is
// what the kernel sources report (and `flowscope collector` exits 2 with it).
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ReaderHandle {
  readonly __reader: unique symbol;
}
export interface ObjectHandle {
  readonly __object: unique symbol;
}

export interface PerfNative {
  openPerfReader(
    opts: { path?: string; fd?: number; pages: number; maxBatchBytes?: number; wakeupBytes?: number },
    onBatch: (batch: Buffer, records: number, lost: number[] | null) => void,
  ): ReaderHandle;
  consume(r: ReaderHandle): void;
  readerStats(r: ReaderHandle): { records: number; lost: number; wakeups: number; batches: number; rings: number };
  closeReader(r: ReaderHandle): void;
  openObject(path: string, pins?: Record<string, string>): ObjectHandle;
  attach(o: ObjectHandle, cgroupPath: string | null): number;
  mapFd(o: ObjectHandle, map: string): number;
  mapUpdate(o: ObjectHandle, map: string, key: Buffer, value: Buffer): void;
  /** `cpu` pins the calling thread to that CPU (-1: the current one) for the run; `cpu` in the
   * answer is the CPU used, -1 when not pinned. */
  testRun(o: ObjectHandle, prog: string, data: Buffer, repeat: number, cpu?: number): { retval: number; durationNs: number; cpu: number };
  closeObject(o: ObjectHandle): void;
  kernelEnum(name: string): Array<[string, number]>;
  libbpfVersion(): string;
}

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'binding.gyp'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('flowscope package root not found');
}

export const PACKAGE_ROOT = packageRoot();
export const BPF_OBJECT_DIR = path.join(PACKAGE_ROOT, 'build', 'bpf');

export type NativeLoad = { ok: true; native: PerfNative } | { ok: false; reason: string };

let cached: NativeLoad | undefined;

/** The addon, or why it is not there. Never throws. */
export function loadPerfNative(): NativeLoad {
  if (cached) return cached;
  const built = path.join(PACKAGE_ROOT, 'build', 'Release', 'flowscope_perf.node');
  const reasonFile = path.join(PACKAGE_ROOT, 'build', 'kernel-unavailable.txt');
  if (!existsSync(built)) {
    const why = existsSync(reasonFile) ? readFileSync(reasonFile, 'utf8').trim() : 'native addon not built';
    cached = { ok: false, reason: `${why} (install the toolchain with scripts/install-kernel-toolchain.sh as root, then npm run build:kernel)` };
    return cached;
  }
  try {
    cached = { ok: true, native: createRequire(import.meta.url)(built) as PerfNative };
  } catch (err) {
    cached = { ok: false, reason: `native addon failed to load: ${(err as Error).message}` };
  }
  return cached;
}

/** Path of a compiled BPF object (probe, emit), or why it is missing. */
export function bpfObject(name: string): { ok: true; path: string } | { ok: false; reason: string } {
  const p = path.join(BPF_OBJECT_DIR, `${name}.bpf.o`);
  if (existsSync(p)) return { ok: true, path: p };
  const reasonFile = path.join(PACKAGE_ROOT, 'build', 'kernel-unavailable.txt');
  const why = existsSync(reasonFile) ? readFileSync(reasonFile, 'utf8').trim() : `${p} not built`;
  return { ok: false, reason: `BPF object ${name} unavailable: ${why}` };
}
