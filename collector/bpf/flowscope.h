/* Record layout shared by the probe (kernel side) and collector/sources/kernel-record.ts.
 * Little-endian, host order. Byte 0 is FS_MSG_KERNEL so a record can never be mistaken for a
 * Cilium monitor record (0..130). */
#ifndef FLOWSCOPE_H
#define FLOWSCOPE_H

#define FS_MSG_KERNEL 0xF0

enum fs_kind {
  FS_KIND_DROP = 1,
  FS_KIND_TCP_OPEN = 2,
  FS_KIND_TCP_CLOSE = 3,
  FS_KIND_UDP = 4,
};

#define FS_F_IPV6 0x01
#define FS_F_INGRESS 0x02
#define FS_F_EGRESS 0x04
#define FS_F_PACKET 0x08 /* pkt[] holds cap_len bytes starting at the IP header */

#define FS_CAP_MAX 256
#define FS_HDR_LEN 88

struct fs_event {
  __u8 type;       /* 0  FS_MSG_KERNEL */
  __u8 kind;       /* 1  enum fs_kind */
  __u8 flags;      /* 2  FS_F_* */
  __u8 tcp_flags;  /* 3  FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
  __u32 reason;    /* 4  enum skb_drop_reason (drops) */
  __u64 ts_ns;     /* 8  bpf_ktime_get_ns (CLOCK_MONOTONIC) */
  __u64 bytes;     /* 16 */
  __u64 packets;   /* 24 */
  __u32 ifindex;   /* 32 */
  __u32 netns;     /* 36 network namespace inode, 0 unknown */
  __u8 saddr[16];  /* 40 IPv4 in the first 4 bytes (flow events without packet) */
  __u8 daddr[16];  /* 56 */
  __u16 sport;     /* 72 */
  __u16 dport;     /* 74 */
  __u8 l4proto;    /* 76 */
  __u8 old_state;  /* 77 TCP states (tcp_open / tcp_close) */
  __u8 new_state;  /* 78 */
  __u8 pad0;       /* 79 */
  __u16 cap_len;   /* 80 */
  __u16 pad1;      /* 82 */
  __u32 pad2;      /* 84 */
  __u8 pkt[FS_CAP_MAX]; /* 88 */
};

struct fs_config {
  __u64 aggregate_ns;        /* UDP flows: one report per flow per interval; 0 = every packet */
  __u32 include_unspecified; /* report SKB_DROP_REASON_NOT_SPECIFIED drops */
  __u32 dns_payload;         /* report every UDP/53 packet with its payload (DNS) */
};

#endif
