// Bits of the `presence` column: which sub-messages a flow carries. Hubble filters test for nil
// messages (an event_type, TCP flags or DNS record that is absent never matches), and the
// reader recreates the same empty containers, so presence is part of both the filter and the
// lossless-storage contracts.
export const P = {
  IP: 1 << 0,
  SOURCE: 1 << 1,
  DESTINATION: 1 << 2,
  EVENT_TYPE: 1 << 3,
  L4: 1 << 4,
  TCP: 1 << 5,
  UDP: 1 << 6,
  SCTP: 1 << 7,
  ICMPV4: 1 << 8,
  ICMPV6: 1 << 9,
  TCP_FLAGS: 1 << 10,
  INTERFACE: 1 << 11,
  L7: 1 << 12,
  DNS: 1 << 13,
  HTTP: 1 << 14,
  KAFKA: 1 << 15,
  ETHERNET: 1 << 16,
  SOURCE_SERVICE: 1 << 17,
  DESTINATION_SERVICE: 1 << 18,
  VRRP: 1 << 19,
  IGMP: 1 << 20,
  /** Storage only: the flow time came from the `time` column (see schema/flow-row.ts). */
  TIME: 1 << 21,
  /** Storage only: the deprecated `reply` bool was true (Hubble sets it beside is_reply). */
  REPLY_TRUE: 1 << 22,
} as const;

/** SQL test that a presence bit is set. */
export function has(bit: number): string {
  return `bitAnd(presence, ${bit}) != 0`;
}
