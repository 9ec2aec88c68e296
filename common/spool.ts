// A bounded on-disk FIFO of opaque records (the relay spools batches here while storage is
// unreachable, the collector while the relay is). Records are appended to
// segment files as [u32 length][u32 crc32(payload)][payload] (little-endian). By default each
// append is fsynced before it resolves, so an acknowledged record survives a machine crash;
// with `fsync: 'segment'` an append resolves once the kernel has the bytes (a process crash
// loses nothing) and a segment is fsynced when it is closed or when the owner calls sync(), in
// the background: neither holds up the next append. On
// open every segment is scanned: a torn or corrupt tail (a crash mid-write) is detected by its
// length or CRC and truncated away. Consumed segments are deleted; the limit counts segment
// bytes on disk.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from './logger.js';

export interface SpoolOptions {
  dir: string;
  /** Segment bytes on disk allowed; a full spool makes append wait (see hasRoom). */
  maxBytes: number;
  /** A new segment starts once the current one reaches this size. */
  segmentBytes: number;
  /**
   * When appended bytes are fsynced: 'append' (default) before every append resolves; 'segment'
   * when a segment is full (in the background, appends go on in the next one), at close(), and
   * whenever sync() is called.
   */
  fsync?: 'append' | 'segment';
}

export interface SpoolStats {
  /** Records waiting (appended, not yet consumed). */
  records: number;
  /** Segment bytes on disk. */
  bytes: number;
  appendedRecords: number;
  consumedRecords: number;
  /** Bytes cut from segment tails on open (torn writes, corrupt records). */
  truncatedBytes: number;
  truncatedSegments: number;
}

const HEADER_BYTES = 8;
/** Sanity bound on one record, so a corrupt length never makes us allocate gigabytes. */
const MAX_RECORD_BYTES = 1 << 30;
const SEGMENT_SUFFIX = '.seg';

interface RecordLocation {
  segment: number;
  offset: number;
  length: number;
}
interface ActiveSegment {
  segment: number;
  file: fs.FileHandle;
  dirty: boolean;
  syncing: Promise<void> | null;
}

export class Spool {
  private readonly queue: RecordLocation[] = [];
  private head = 0;
  /** Bytes of every segment file, by segment number. */
  private readonly segmentSizes = new Map<number, number>();
  /** Records not yet consumed, by segment number. */
  private readonly segmentLive = new Map<number, number>();
  private active: ActiveSegment | null = null;
  /** Fsyncs (full segments, new directory entries) running in the background ('segment' mode). */
  private readonly retiring = new Set<Promise<void>>();
  /** Read handles by segment, opened on first read, closed when the segment is deleted. */
  private readonly readers = new Map<number, Promise<fs.FileHandle>>();
  private nextSegment = 1;
  readonly stats: SpoolStats = { records: 0, bytes: 0, appendedRecords: 0, consumedRecords: 0, truncatedBytes: 0, truncatedSegments: 0 };

  private constructor(
    private readonly opts: SpoolOptions,
    private readonly log: Logger,
  ) {}

  /** Opens (creating) the spool directory and recovers the records already in it. */
  static async open(opts: SpoolOptions, log: Logger, onRecovered?: (payload: Buffer) => void): Promise<Spool> {
    if (!(opts.maxBytes > 0) || !(opts.segmentBytes > 0)) throw new Error('spool maxBytes and segmentBytes must be positive');
    await fs.mkdir(opts.dir, { recursive: true });
    const spool = new Spool(opts, log);
    await spool.recover(onRecovered);
    return spool;
  }

  get records(): number {
    return this.stats.records;
  }
  get bytes(): number {
    return this.stats.bytes;
  }

  /** Whether a payload of this size fits; an empty spool takes any record, so nothing deadlocks. */
  hasRoomFor(payloadBytes: number): boolean {
    return this.stats.records === 0 || this.stats.bytes + HEADER_BYTES + payloadBytes <= this.opts.maxBytes;
  }

  /** Appends one record; resolves once it is on disk (fdatasync; see SpoolOptions.fsync). */
  async append(payload: Uint8Array): Promise<void> {
    await this.appendMany([payload]);
  }

  /**
   * Appends records in order, each one buffer or several parts (written as one payload, no
   * copy), with one write (and one fdatasync) per segment they span. On failure the records
   * before the failing segment write stay appended (`stats.appendedRecords` tells how many).
   */
  async appendMany(records: ReadonlyArray<Uint8Array | readonly Uint8Array[]>): Promise<void> {
    const parts = records.map((r) => (r instanceof Uint8Array ? [r] : r));
    const lengths = parts.map((ps) => ps.reduce((n, p) => n + p.length, 0));
    for (const length of lengths) if (length > MAX_RECORD_BYTES) throw new Error(`spool record of ${length} bytes exceeds ${MAX_RECORD_BYTES}`);
    let i = 0;
    while (i < parts.length) {
      const size = this.active ? this.segmentSizes.get(this.active.segment)! : 0;
      if (!this.active || (size > 0 && size + HEADER_BYTES + lengths[i] > this.opts.segmentBytes)) await this.startSegment();
      const active = this.active!;
      const { segment, file } = active;
      const start = this.segmentSizes.get(segment)!;
      const buffers: Uint8Array[] = [];
      const written: RecordLocation[] = [];
      let end = start;
      do {
        const header = Buffer.allocUnsafe(HEADER_BYTES);
        header.writeUInt32LE(lengths[i], 0);
        let crc = 0;
        for (const p of parts[i]) crc = crc32(p, crc);
        header.writeUInt32LE(crc, 4);
        buffers.push(header, ...parts[i]);
        written.push({ segment, offset: end, length: HEADER_BYTES + lengths[i] });
        end += HEADER_BYTES + lengths[i];
        i++;
      } while (i < parts.length && end + HEADER_BYTES + lengths[i] <= this.opts.segmentBytes);
      try {
        await file.writev(buffers);
        if (this.opts.fsync === 'segment') active.dirty = true;
        else await file.datasync();
      } catch (err) {
        await this.abandonActive(start);
        throw err;
      }
      this.segmentSizes.set(segment, end);
      this.segmentLive.set(segment, (this.segmentLive.get(segment) ?? 0) + written.length);
      for (const loc of written) this.queue.push(loc);
      this.stats.records += written.length;
      this.stats.bytes += end - start;
      this.stats.appendedRecords += written.length;
    }
  }

  /**
   * Fsyncs what was appended since the last sync (for `fsync: 'segment'`; a no-op otherwise).
   * May run while appends go on: it covers at least what was appended before the call.
   */
  async sync(): Promise<void> {
    const active = this.active;
    if (!active?.dirty || active.syncing) return;
    active.dirty = false;
    active.syncing = active.file.datasync();
    try {
      await active.syncing;
    } catch (err) {
      active.dirty = true;
      throw err;
    } finally {
      active.syncing = null;
    }
  }

  /** The oldest record's payload, or undefined when empty. */
  peek(): Promise<Buffer | undefined> {
    return this.read(0);
  }

  /**
   * The payload of the waiting record `index` places behind the oldest (0 = the oldest), or
   * undefined past the newest. Reads one record; nothing else of the spool is loaded. `alloc`
   * gives the buffer to read the record into (at least `n` bytes; default: a new one).
   */
  async read(index: number, alloc?: (n: number) => Buffer): Promise<Buffer | undefined> {
    const loc = this.queue[this.head + index];
    if (!loc || index < 0) return undefined;
    const file = await this.reader(loc.segment);
    const buf = alloc ? alloc(loc.length).subarray(0, loc.length) : Buffer.allocUnsafe(loc.length);
    const { bytesRead } = await file.read(buf, 0, loc.length, loc.offset);
    if (bytesRead !== loc.length) throw new Error(`spool segment ${loc.segment} shorter than expected`);
    const payload = buf.subarray(HEADER_BYTES);
    if (crc32(payload) !== buf.readUInt32LE(4)) throw new Error(`spool record at ${loc.segment}:${loc.offset} fails its CRC`);
    return payload;
  }

  /** Drops the oldest record; a segment whose records are all consumed is deleted. */
  async shift(): Promise<void> {
    const loc = this.queue[this.head];
    if (!loc) return;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.stats.records--;
    this.stats.consumedRecords++;
    const live = this.segmentLive.get(loc.segment)! - 1;
    this.segmentLive.set(loc.segment, live);
    if (live > 0) return;
    if (this.active?.segment === loc.segment) {
      // The spool is empty: retire the active segment too, the next append starts a new one.
      const { file, syncing } = this.active;
      this.active = null;
      await syncing?.catch(() => undefined);
      await file.close();
    }
    await this.removeSegment(loc.segment);
  }

  async close(): Promise<void> {
    await this.closeActive();
    await Promise.all(this.retiring);
    for (const segment of [...this.readers.keys()]) await this.closeReader(segment);
  }

  private segmentPath(segment: number): string {
    return path.join(this.opts.dir, `${String(segment).padStart(12, '0')}${SEGMENT_SUFFIX}`);
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    if (!active) return;
    this.active = null;
    try {
      await active.syncing?.catch(() => undefined);
      if (active.dirty) await active.file.datasync();
    } finally {
      await active.file.close();
    }
  }

  /** A full segment: fsynced and closed now ('append' mode: already synced), or in the background. */
  private async retireActive(): Promise<void> {
    if (this.opts.fsync !== 'segment') return this.closeActive();
    const active = this.active;
    if (!active) return;
    this.background(this.closeActive(), active.segment);
  }

  /** An fsync (and close) left to run on its own; close() waits for it. */
  private background(work: Promise<void>, segment: number): void {
    const done = work.catch((err: Error) => {
      this.log.warn({ segment, err: err.message }, 'spool: background fsync failed');
    });
    this.retiring.add(done);
    void done.finally(() => this.retiring.delete(done));
  }

  /** After a failed write: cut the segment back to its last whole record and stop appending to it. */
  private async abandonActive(goodSize: number): Promise<void> {
    const active = this.active;
    if (!active) return;
    this.active = null;
    // Best effort: a tail that cannot be cut is found torn (and cut) by the next open's scan.
    await active.syncing?.catch(() => undefined);
    try {
      await active.file.truncate(goodSize);
    } catch {
      /* see above */
    }
    try {
      await active.file.close();
    } catch {
      /* already failing */
    }
  }

  private reader(segment: number): Promise<fs.FileHandle> {
    let file = this.readers.get(segment);
    if (!file) {
      file = fs.open(this.segmentPath(segment), 'r');
      this.readers.set(segment, file);
      file.catch(() => this.readers.delete(segment));
    }
    return file;
  }

  private async closeReader(segment: number): Promise<void> {
    const file = this.readers.get(segment);
    if (!file) return;
    this.readers.delete(segment);
    try {
      await (await file).close();
    } catch {
      /* never opened */
    }
  }

  private async startSegment(): Promise<void> {
    await this.retireActive();
    const segment = this.nextSegment++;
    const file = await fs.open(this.segmentPath(segment), 'a');
    this.active = { segment, file, dirty: false, syncing: null };
    this.segmentSizes.set(segment, 0);
    this.segmentLive.set(segment, 0);
    // The new file's directory entry must survive a crash too. A directory fsync commits the
    // filesystem journal, which can take most of a second under write load: in 'segment' mode
    // it runs in the background like the segment fsyncs.
    if (this.opts.fsync === 'segment') this.background(this.syncDir(), segment);
    else await this.syncDir();
  }

  private async removeSegment(segment: number): Promise<void> {
    this.stats.bytes -= this.segmentSizes.get(segment) ?? 0;
    this.segmentSizes.delete(segment);
    this.segmentLive.delete(segment);
    await this.closeReader(segment);
    await fs.rm(this.segmentPath(segment), { force: true });
  }

  private async syncDir(): Promise<void> {
    const dir = await fs.open(this.opts.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async recover(onRecovered?: (payload: Buffer) => void): Promise<void> {
    const names = (await fs.readdir(this.opts.dir)).filter((n) => /^\d{12}\.seg$/.test(n)).sort();
    for (const name of names) {
      const segment = Number(name.slice(0, 12));
      this.nextSegment = Math.max(this.nextSegment, segment + 1);
      const file = path.join(this.opts.dir, name);
      const data = await fs.readFile(file);
      let offset = 0;
      let count = 0;
      while (offset < data.length) {
        if (data.length - offset < HEADER_BYTES) break;
        const len = data.readUInt32LE(offset);
        if (len > MAX_RECORD_BYTES || offset + HEADER_BYTES + len > data.length) break;
        const payload = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + len);
        if (crc32(payload) !== data.readUInt32LE(offset + 4)) break;
        onRecovered?.(payload);
        this.queue.push({ segment, offset, length: HEADER_BYTES + len });
        offset += HEADER_BYTES + len;
        count++;
      }
      if (offset < data.length) {
        // A torn or corrupt tail: everything from the first bad record on is unusable.
        this.stats.truncatedBytes += data.length - offset;
        this.stats.truncatedSegments++;
        this.log.warn({ segment: name, keptRecords: count, truncatedBytes: data.length - offset }, 'spool segment had a torn tail; truncated');
        const fh = await fs.open(file, 'r+');
        try {
          await fh.truncate(offset);
          await fh.datasync();
        } finally {
          await fh.close();
        }
      }
      if (count === 0) {
        await fs.rm(file, { force: true });
        continue;
      }
      this.segmentSizes.set(segment, offset);
      this.segmentLive.set(segment, count);
      this.stats.records += count;
      this.stats.bytes += offset;
    }
    if (this.stats.records > 0) this.log.info({ records: this.stats.records, bytes: this.stats.bytes }, 'spool holds batches from an earlier run');
  }
}
