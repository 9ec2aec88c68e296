// `--source cilium[:PATH]`: Cilium's own perf event array (cilium_events), read by pinned path.
// The records are Cilium monitor records; MonitorDecoder decodes them.
import type { RecordSink, Source } from '../source.js';
import { PerfRingReader, type PerfRingStats } from '../perf/reader.js';
import type { PerfNative } from '../perf/native.js';

export const DEFAULT_CILIUM_EVENTS_PATH = '/sys/fs/bpf/tc/globals/cilium_events';

export interface CiliumSourceOptions {
  path: string;
  pages: number;
  /** See PerfRingOptions.wakeupBytes. */ wakeupBytes: number;
}

export class CiliumSource implements Source {
  readonly name: string;
  private reader: PerfRingReader | null = null;

  constructor(
    private readonly native: PerfNative,
    private readonly opts: CiliumSourceOptions,
  ) {
    this.name = `cilium:${opts.path}`;
  }

  async start(sink: RecordSink): Promise<void> {
    const reader = new PerfRingReader(this.native, { path: this.opts.path, pages: this.opts.pages, wakeupBytes: this.opts.wakeupBytes });
    reader.start(sink);
    this.reader = reader;
  }

  ringStats(): PerfRingStats | null {
    return this.reader?.stats() ?? null;
  }

  async stop(): Promise<void> {
    this.reader?.close();
    this.reader = null;
  }
}
