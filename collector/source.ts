// A source is where raw datapath records come from: a perf ring (cilium, kernel), a file of
// recorded records, or the synthetic cluster. Every source hands records over in batches so the
// decoder runs over arrays, never one callback per record.

/** One perf-ring sample: the raw payload as the BPF program wrote it (byte 0 = message type). */
export interface RawRecord {
  data: Uint8Array;
  /** CPU whose ring the record came from (-1 when unknown). */
  cpu: number;
  /** When the record was read, in nanoseconds since the Unix epoch; Hubble stamps flows with it. */
  timeNs: number;
}

export interface RecordSink {
  /** A batch of records, in ring order. The array and its records are owned by the sink afterwards. */
  records(batch: RawRecord[]): void;
  /**
   * Records the sink takes now without dropping any. A live source that can leave records where
   * they are (the synthetic ring) reads no more than this and reports the rest through lost(),
   * as a kernel ring that is not drained loses them: the loss is counted, and no record is built
   * only to be dropped. Absent: no limit is known.
   */
  room?(): number;
  /** The ring reported `count` samples lost on `cpu` (PERF_RECORD_LOST). */
  lost(cpu: number, count: number): void;
  /**
   * For sources that can pause (files): takes the whole batch, never dropping, and resolves when
   * the sink has room for the next one. Live rings cannot pause: they call records(), and what
   * does not fit is dropped and counted.
   */
  recordsPaced?(batch: RawRecord[]): Promise<void>;
}

export interface Source {
  readonly name: string;
  start(sink: RecordSink): Promise<void>;
  /** Stops producing; resolves once no further sink call will happen. */
  stop(): Promise<void>;
  /** Resolves when a finite source (a file) has delivered everything. Infinite sources never resolve. */
  readonly done?: Promise<void>;
}
