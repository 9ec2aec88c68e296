// Writes record files in the format FileSource replays (one JSON object per line).
import { createWriteStream, type WriteStream } from 'node:fs';
import { formatTimestamp } from '../../proto/json.js';
import type { RawRecord } from '../source.js';
import type { ExactTimeRecord } from '../decode/decoder.js';

/** One record as a line (without newline); `withTime` adds the record time as RFC 3339. */
export function recordLine(rec: RawRecord, withTime = true): string {
  const o: { time?: string; cpu: number; data: string } = {
    cpu: rec.cpu,
    data: Buffer.from(rec.data.buffer, rec.data.byteOffset, rec.data.byteLength).toString('hex'),
  };
  if (withTime) {
    const x = rec as ExactTimeRecord;
    let seconds: number, nanos: number;
    if (x.timeSeconds !== undefined) {
      seconds = x.timeSeconds;
      nanos = x.timeNanos ?? 0;
    } else {
      seconds = Math.floor(rec.timeNs / 1e9);
      nanos = Math.min(999_999_999, Math.max(0, Math.round(rec.timeNs - seconds * 1e9)));
    }
    return JSON.stringify({ time: formatTimestamp({ seconds, nanos }), ...o });
  }
  return JSON.stringify(o);
}

/** Serialises records to the file format in memory. */
export function recordsToText(recs: readonly RawRecord[], withTime = true): string {
  let s = '';
  for (const r of recs) s += recordLine(r, withTime) + '\n';
  return s;
}

export class RecordFileWriter {
  private readonly out: WriteStream;
  constructor(
    path: string,
    private readonly withTime = true,
  ) {
    this.out = createWriteStream(path, 'utf8');
  }
  write(recs: readonly RawRecord[]): void {
    this.out.write(recordsToText(recs, this.withTime));
  }
  close(): Promise<void> {
    return new Promise((res, rej) => this.out.end((err?: Error | null) => (err ? rej(err) : res())));
  }
}
