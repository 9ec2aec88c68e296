// Replays a record file: JSON lines {"time":"RFC3339 (optional)","cpu":0,"data":"<hex>"}. A line's
// time becomes the record time (deterministic tests); without one the read time is used. Bad lines
// are counted in `badLines` and skipped; the source never throws on content.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseTimestamp } from '../../proto/json.js';
import type { RawRecord, RecordSink, Source } from '../source.js';
import type { ExactTimeRecord } from '../decode/decoder.js';

export interface FileSourceOptions {
  /** Records per batch handed to the sink (default 512). */
  batchSize?: number;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** Parses one line; null when it is not a valid record line. */
export function parseRecordLine(line: string, readTimeNs: number): RawRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as { time?: unknown; cpu?: unknown; data?: unknown };
  if (typeof o.data !== 'string' || !HEX.test(o.data)) return null;
  const cpu = o.cpu === undefined ? -1 : o.cpu;
  if (typeof cpu !== 'number' || !Number.isInteger(cpu)) return null;
  const data = new Uint8Array(Buffer.from(o.data, 'hex'));
  if (o.time === undefined) return { data, cpu, timeNs: readTimeNs };
  if (typeof o.time !== 'string') return null;
  let t: { seconds: number; nanos: number };
  try {
    t = parseTimestamp(o.time);
  } catch {
    return null;
  }
  // Exact seconds/nanos ride along: timeNs alone cannot hold nanosecond precision.
  const rec: ExactTimeRecord = { data, cpu, timeNs: t.seconds * 1e9 + t.nanos, timeSeconds: t.seconds, timeNanos: t.nanos };
  return rec;
}

export class FileSource implements Source {
  readonly name: string;
  readonly done: Promise<void>;
  /** Lines that were not valid records (skipped). */
  badLines = 0;
  /** Records delivered. */
  records = 0;
  private resolveDone!: () => void;
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly batchSize: number;

  constructor(
    private readonly path: string,
    opts: FileSourceOptions = {},
  ) {
    this.name = `file:${path}`;
    this.batchSize = opts.batchSize ?? 512;
    this.done = new Promise((r) => {
      this.resolveDone = r;
    });
  }

  async start(sink: RecordSink): Promise<void> {
    this.running = this.run(sink);
  }

  private async run(sink: RecordSink): Promise<void> {
    let batch: RawRecord[] = [];
    try {
      const rl = createInterface({ input: createReadStream(this.path, 'utf8'), crlfDelay: Infinity });
      for await (const line of rl) {
        if (this.stopped) {
          rl.close();
          break;
        }
        if (line.trim() === '') continue;
        const rec = parseRecordLine(line, Date.now() * 1e6);
        if (rec === null) {
          this.badLines++;
          continue;
        }
        batch.push(rec);
        if (batch.length >= this.batchSize) {
          this.records += batch.length;
          // A file can wait for the decoder: it loses nothing to a full queue.
          if (sink.recordsPaced) await sink.recordsPaced(batch);
          else sink.records(batch);
          batch = [];
        }
      }
    } catch {
      // Unreadable file: counted as one bad line so the problem is visible in the counter.
      this.badLines++;
    }
    if (batch.length > 0 && !this.stopped) {
      this.records += batch.length;
      if (sink.recordsPaced) await sink.recordsPaced(batch);
      else sink.records(batch);
    }
    this.resolveDone();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
