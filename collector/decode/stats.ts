// Decoder counters: a plain object so a metrics module can read (or export) it without coupling.

export interface DecodeStats {
  /** Records that produced a Flow. */
  decoded: number;
  /** Record shorter than its header (or empty). */
  truncated: number;
  /** Byte 0 is not a datapath message type flowscope knows. */
  unknownType: number;
  /** Known type, version byte newer than the decoder understands. */
  unknownVersion: number;
  /** Header lengths disagree with the record (cap_len past the end, wrong fixed size). */
  badLength: number;
  /** A packet layer is malformed (Hubble rejects such events too). */
  badPacket: number;
  /** Known types that are not flows (debug messages, pcap recorder, agent events): ignored like Hubble. */
  skipped: number;
}

export function newDecodeStats(): DecodeStats {
  return { decoded: 0, truncated: 0, unknownType: 0, unknownVersion: 0, badLength: 0, badPacket: 0, skipped: 0 };
}
