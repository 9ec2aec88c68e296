// PerfRingReader: one perf event array (one ring per CPU) read through the native addon. The
// addon wakes on the rings' epoll fd inside libuv, drains every ring and hands over one Buffer
// per pass ([u32 size][u32 cpu][data, padded to 8]...); this class slices it into RawRecords
// (views, no copies) and forwards batches and lost counts to the sink.
import type { RawRecord, RecordSink } from '../source.js';
import type { PerfNative, ReaderHandle } from './native.js';

export interface PerfRingOptions {
  /** Pinned map path (bpffs) — or `fd` of a map this process holds. */
  path?: string;
  fd?: number;
  /** Pages per CPU ring (power of two); Cilium's default is 64 (256 KiB at 4 KiB pages). */
  pages: number;
  /** Largest Buffer handed to JS at once; a pass that exceeds it is split into several batches. */
  maxBatchBytes?: number;
  /**
   * Wake the reader only when this many bytes wait in a ring (0 = on every sample). Fewer
   * wake-ups under load; a quiet ring is then drained by the timer below.
   */
  wakeupBytes?: number;
  /** Timer drain in ms: bounds latency with wakeupBytes > 0. Default 100 with wakeupBytes, else 1000; 0 = none. */
  drainIntervalMs?: number;
}

export interface PerfRingStats {
  records: number;
  lost: number;
  wakeups: number;
  batches: number;
  rings: number;
}

export class PerfRingReader {
  private handle: ReaderHandle | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Adds to records' read time: lets a source map a monotonic clock; 0 = Date.now(). */
  constructor(
    private readonly native: PerfNative,
    private readonly opts: PerfRingOptions,
  ) {}

  start(sink: RecordSink): void {
    if (this.handle) throw new Error('perf reader already started');
    this.handle = this.native.openPerfReader(
      { path: this.opts.path, fd: this.opts.fd, pages: this.opts.pages, maxBatchBytes: this.opts.maxBatchBytes, wakeupBytes: this.opts.wakeupBytes ?? 0 },
      (buf, n, lost) => {
        if (lost !== null) for (let i = 0; i < lost.length; i += 2) sink.lost(lost[i], lost[i + 1]);
        if (n > 0) sink.records(splitBatch(buf, n, Date.now() * 1e6));
      },
    );
    const h = this.handle;
    // Records written before libuv armed the poll would wait for the next wake-up; drain once now.
    setImmediate(() => {
      if (this.handle === h) this.native.consume(h);
    });
    const every = this.opts.drainIntervalMs ?? ((this.opts.wakeupBytes ?? 0) > 0 ? 100 : 1000);
    if (every > 0) {
      this.timer = setInterval(() => {
        if (this.handle) this.native.consume(this.handle);
      }, every);
      this.timer.unref();
    }
  }

  /** Reads whatever the rings hold now (synchronously, through the sink). */
  drain(): void {
    if (this.handle) this.native.consume(this.handle);
  }

  stats(): PerfRingStats {
    return this.handle ? this.native.readerStats(this.handle) : { records: 0, lost: 0, wakeups: 0, batches: 0, rings: 0 };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.handle) {
      this.native.consume(this.handle); // what is already in the rings is delivered, not dropped
      this.native.closeReader(this.handle);
    }
    this.handle = null;
  }
}

/** Splits an addon batch into records; `timeNs` stamps them all (Hubble stamps read time). */
export function splitBatch(buf: Buffer, count: number, timeNs: number): RawRecord[] {
  const out: RawRecord[] = new Array(count);
  let o = 0;
  let i = 0;
  while (i < count && o + 8 <= buf.length) {
    const size = buf.readUInt32LE(o);
    const cpu = buf.readUInt32LE(o + 4);
    if (o + 8 + size > buf.length) break; // cannot happen with the addon's framing; never read past
    out[i++] = { data: buf.subarray(o + 8, o + 8 + size), cpu, timeNs };
    o += 8 + ((size + 7) & ~7);
  }
  out.length = i;
  return out;
}
