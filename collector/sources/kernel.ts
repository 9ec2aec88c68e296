// `--source kernel`: flowscope's own probe (collector/bpf/probe.bpf.c) for nodes without Cilium.
// Loads and attaches it, configures aggregation, and reads its perf event array; KernelDecoder
// turns the records into Flows.
import type { RecordSink, Source } from '../source.js';
import { PerfRingReader, type PerfRingStats } from '../perf/reader.js';
import type { ObjectHandle, PerfNative } from '../perf/native.js';
import { cgroup2Root } from './kernel-env.js';

export interface KernelSourceOptions {
  /** Compiled probe object (build/bpf/probe.bpf.o). */
  objectPath: string;
  pages: number;
  /** See PerfRingOptions.wakeupBytes. */
  wakeupBytes: number;
  /** UDP flows: one report per flow and direction per interval; 0 = every packet. */
  aggregateSeconds: number;
  /** Report drops with reason NOT_SPECIFIED (noisy; see docs/kernel-probe.md). */
  includeUnspecified: boolean;
  /** Report every UDP/53 packet with its payload so DNS names and rcodes can be decoded. */
  dns: boolean;
  /** cgroup v2 directory the UDP hooks attach to (default: the first cgroup2 mount). In a pod, the
   * host's hierarchy mounted from the node: the container's own /sys/fs/cgroup is its namespace's. */
  cgroupRoot?: string;
}

export class KernelSource implements Source {
  readonly name = 'kernel';
  private obj: ObjectHandle | null = null;
  private reader: PerfRingReader | null = null;

  constructor(
    private readonly native: PerfNative,
    private readonly opts: KernelSourceOptions,
  ) {}

  async start(sink: RecordSink): Promise<void> {
    const n = this.native;
    const obj = n.openObject(this.opts.objectPath, {});
    try {
      const cfg = Buffer.alloc(16);
      cfg.writeBigUInt64LE(BigInt(Math.round(this.opts.aggregateSeconds * 1e9)), 0);
      cfg.writeUInt32LE(this.opts.includeUnspecified ? 1 : 0, 8);
      cfg.writeUInt32LE(this.opts.dns ? 1 : 0, 12);
      n.mapUpdate(obj, 'fs_config_map', Buffer.alloc(4), cfg);
      // The reader exists before the probe is attached so no early event is missed.
      const reader = new PerfRingReader(n, { fd: n.mapFd(obj, 'events'), pages: this.opts.pages, wakeupBytes: this.opts.wakeupBytes });
      reader.start(sink);
      this.reader = reader;
      n.attach(obj, this.opts.cgroupRoot ?? cgroup2Root());
    } catch (err) {
      this.reader?.close();
      this.reader = null;
      n.closeObject(obj);
      throw err;
    }
    this.obj = obj;
  }

  ringStats(): PerfRingStats | null {
    return this.reader?.stats() ?? null;
  }

  async stop(): Promise<void> {
    // Reader first: its teardown clears the map slots through the object's map fd.
    this.reader?.close();
    this.reader = null;
    if (this.obj) this.native.closeObject(this.obj);
    this.obj = null;
  }
}
