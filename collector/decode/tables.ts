// TCP flag summaries, precomputed: the decoder indexes them with the header's flag bits.
import { HUBBLE_TCP_FLAG_ORDER, tcpFlagBit } from '../../proto/tcp-flags.js';

/** "TCP Flags: SYN, ACK" for each of the 512 flag combinations (index = header flag bits | NS<<8). */
export const TCP_SUMMARY: string[] = Array.from(
  { length: 512 },
  (_, m) => 'TCP Flags: ' + HUBBLE_TCP_FLAG_ORDER.filter((name) => (m & tcpFlagBit(name)) !== 0).join(', '),
);
