// flowscope's own datapath probe for nodes without Cilium. Three hooks, one perf event array:
//  - tracepoint skb:kfree_skb: every dropped packet with the kernel's drop reason and the first
//    bytes of the packet from its IP header (decoded in JS like a Cilium record's packet).
//  - tracepoint sock:inet_sock_set_state: TCP connection opened (ESTABLISHED) and closed (CLOSE)
//    with direction (who connected) and the socket's byte/segment counters.
//  - cgroup_skb ingress/egress on the cgroup v2 root: UDP flows, aggregated per 5-tuple and
//    direction in a hash map (one report per flow per interval); DNS packets reported each.
// See docs/kernel-probe.md for why these hooks.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flowscope.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_FIN_WAIT2 5
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8
#define TCP_LAST_ACK 9
#define TCP_LISTEN 10
#define TCP_CLOSING 11
#define DROP_NOT_DROPPED_YET 0
#define DROP_CONSUMED 1
#define DROP_NOT_SPECIFIED 2

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct fs_config);
} fs_config_map SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct fs_event);
} scratch SEC(".maps");

// TCP sockets between ESTABLISHED and CLOSE: who initiated (FS_F_EGRESS = we connected).
struct conn_info { __u8 dir; __u8 pad[7]; };
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct conn_info);
} conns SEC(".maps");

struct udp_key {
  __u8 saddr[16];
  __u8 daddr[16];
  __u16 sport;
  __u16 dport;
  __u8 dir;
  __u8 v6;
  __u16 pad;
};
struct udp_val {
  __u64 bytes;
  __u64 packets;
  __u64 last_report_ns;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct udp_key);
  __type(value, struct udp_val);
} udp_flows SEC(".maps");

// Clamps a capture length so the verifier sees it bounded in [0, FS_CAP_MAX] in the register
// actually passed to the helper (clang otherwise keeps an unclamped copy).
static __always_inline __u32 bound_cap(__u64 cap) {
  __u64 c = cap > FS_CAP_MAX ? FS_CAP_MAX : cap;
  asm volatile("%[c] &= 0x1ff\n\tif %[c] <= 256 goto +1\n\t%[c] = 256" : [c] "+r"(c));
  return c;
}

static __always_inline struct fs_event *new_event(__u8 kind) {
  __u32 zero = 0;
  struct fs_event *ev = bpf_map_lookup_elem(&scratch, &zero);
  if (!ev) return 0;
  __builtin_memset(ev, 0, FS_HDR_LEN);
  ev->type = FS_MSG_KERNEL;
  ev->kind = kind;
  ev->ts_ns = bpf_ktime_get_ns();
  return ev;
}

static __always_inline void emit(void *ctx, struct fs_event *ev) {
  __u32 cap = bound_cap(ev->cap_len);
  bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, ev, FS_HDR_LEN + cap);
}

static __always_inline struct fs_config *get_config(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&fs_config_map, &zero);
}

SEC("tracepoint/skb/kfree_skb")
int on_kfree_skb(struct trace_event_raw_kfree_skb *ctx) {
  __u32 reason = ctx->reason;
  if (reason == DROP_NOT_DROPPED_YET || reason == DROP_CONSUMED) return 0;
  struct fs_config *cfg = get_config();
  if (reason == DROP_NOT_SPECIFIED && !(cfg && cfg->include_unspecified)) return 0;
  __u16 proto = ctx->protocol;
  if (proto != ETH_P_IP && proto != ETH_P_IPV6) return 0; // ARP, raw frames: no flow to report
  struct sk_buff *skb = ctx->skbaddr;
  struct fs_event *ev = new_event(FS_KIND_DROP);
  if (!ev) return 0;
  ev->reason = reason;
  ev->flags = proto == ETH_P_IPV6 ? FS_F_IPV6 : 0;
  struct net_device *dev = BPF_CORE_READ(skb, dev);
  if (dev) {
    ev->ifindex = BPF_CORE_READ(dev, ifindex);
    ev->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
  } else {
    ev->ifindex = BPF_CORE_READ(skb, skb_iif);
    struct sock *sk = BPF_CORE_READ(skb, sk);
    if (sk) ev->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  }
  unsigned char *head = BPF_CORE_READ(skb, head);
  __u16 nh = BPF_CORE_READ(skb, network_header);
  __u32 tail = BPF_CORE_READ(skb, tail);
  __u32 len = BPF_CORE_READ(skb, len);
  ev->bytes = len;
  ev->packets = 1;
  if (nh != (__u16)~0U && tail > nh) {
    __u32 cap = bound_cap(tail - nh);
    if (bpf_probe_read_kernel(ev->pkt, cap, head + nh) == 0) {
      ev->cap_len = cap;
      ev->flags |= FS_F_PACKET;
    }
  }
  emit(ctx, ev);
  return 0;
}

static __always_inline __u8 close_flags(int old_state) {
  // Orderly shutdown went through the FIN states; anything else reaching CLOSE was reset/aborted.
  switch (old_state) {
    case TCP_FIN_WAIT1: case TCP_FIN_WAIT2: case TCP_CLOSING: case TCP_LAST_ACK: case TCP_TIME_WAIT:
      return 0x01 | 0x10; // FIN, ACK
    default:
      return 0x04; // RST
  }
}

SEC("tracepoint/sock/inet_sock_set_state")
int on_sock_state(struct trace_event_raw_inet_sock_set_state *ctx) {
  if (ctx->protocol != IPPROTO_TCP) return 0;
  int old_state = ctx->oldstate, new_state = ctx->newstate;
  __u64 key = (__u64)ctx->skaddr;
  __u8 kind, dir;
  if (new_state == TCP_ESTABLISHED && (old_state == TCP_SYN_SENT || old_state == TCP_SYN_RECV)) {
    kind = FS_KIND_TCP_OPEN;
    dir = old_state == TCP_SYN_SENT ? FS_F_EGRESS : FS_F_INGRESS;
    struct conn_info ci = { .dir = dir };
    bpf_map_update_elem(&conns, &key, &ci, BPF_ANY);
  } else if (new_state == TCP_SYN_SENT) {
    // Remember the initiator now: a connect that fails goes SYN_SENT → CLOSE.
    struct conn_info ci = { .dir = FS_F_EGRESS };
    bpf_map_update_elem(&conns, &key, &ci, BPF_ANY);
    return 0;
  } else if (new_state == TCP_CLOSE && old_state != TCP_LISTEN && old_state != TCP_CLOSE) {
    kind = FS_KIND_TCP_CLOSE;
    struct conn_info *ci = bpf_map_lookup_elem(&conns, &key);
    if (!ci) return 0; // opened before the probe started, or a request socket: nothing known
    dir = ci->dir;
    bpf_map_delete_elem(&conns, &key);
  } else {
    return 0;
  }
  struct fs_event *ev = new_event(kind);
  if (!ev) return 0;
  ev->l4proto = IPPROTO_TCP;
  ev->old_state = old_state;
  ev->new_state = new_state;
  ev->flags = dir;
  int v6 = ctx->family == AF_INET6;
  if (v6) ev->flags |= FS_F_IPV6;
  // Flow events name the initiator as source: local for connections we made, remote otherwise.
  int local_is_src = dir == FS_F_EGRESS;
  __u8 *src = local_is_src ? ev->saddr : ev->daddr, *dst = local_is_src ? ev->daddr : ev->saddr;
  if (v6) {
    bpf_probe_read_kernel(src, 16, ctx->saddr_v6);
    bpf_probe_read_kernel(dst, 16, ctx->daddr_v6);
  } else {
    bpf_probe_read_kernel(src, 4, ctx->saddr);
    bpf_probe_read_kernel(dst, 4, ctx->daddr);
  }
  __u16 lport = ctx->sport, rport = ctx->dport; // read once: ctx pointers may not be offset at run time
  ev->sport = local_is_src ? lport : rport;
  ev->dport = local_is_src ? rport : lport;
  ev->tcp_flags = kind == FS_KIND_TCP_OPEN ? 0x02 : close_flags(old_state);
  struct sock *sk = (struct sock *)ctx->skaddr;
  ev->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
  ev->ifindex = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
  if (kind == FS_KIND_TCP_CLOSE) {
    struct tcp_sock *tp = (struct tcp_sock *)sk;
    ev->bytes = BPF_CORE_READ(tp, bytes_acked) + BPF_CORE_READ(tp, bytes_received);
    ev->packets = (__u64)BPF_CORE_READ(tp, segs_in) + BPF_CORE_READ(tp, segs_out);
  }
  emit(ctx, ev);
  return 0;
}

static __always_inline int on_udp(struct __sk_buff *skb, __u8 dir) {
  struct udp_key k = {};
  __u32 l4off;
  __u8 first;
  if (bpf_skb_load_bytes(skb, 0, &first, 1) < 0) return 1;
  if ((first >> 4) == 4) {
    __u8 proto;
    if (bpf_skb_load_bytes(skb, 9, &proto, 1) < 0 || proto != IPPROTO_UDP) return 1;
    __u16 frag;
    if (bpf_skb_load_bytes(skb, 6, &frag, 2) < 0 || (bpf_ntohs(frag) & 0x1fff) != 0) return 1; // not the first fragment
    if (bpf_skb_load_bytes(skb, 12, k.saddr, 4) < 0 || bpf_skb_load_bytes(skb, 16, k.daddr, 4) < 0) return 1;
    l4off = (first & 0x0f) * 4;
  } else if ((first >> 4) == 6) {
    __u8 nh;
    if (bpf_skb_load_bytes(skb, 6, &nh, 1) < 0 || nh != IPPROTO_UDP) return 1; // extension headers: not followed here
    if (bpf_skb_load_bytes(skb, 8, k.saddr, 16) < 0 || bpf_skb_load_bytes(skb, 24, k.daddr, 16) < 0) return 1;
    l4off = 40;
    k.v6 = 1;
  } else {
    return 1;
  }
  __u16 ports[2];
  if (bpf_skb_load_bytes(skb, l4off & 0x3f, ports, 4) < 0) return 1;
  k.sport = bpf_ntohs(ports[0]);
  k.dport = bpf_ntohs(ports[1]);
  k.dir = dir;
  struct fs_config *cfg = get_config();
  __u64 agg = cfg ? cfg->aggregate_ns : 0;
  int dns = cfg && cfg->dns_payload && (k.sport == 53 || k.dport == 53);
  __u64 now = bpf_ktime_get_ns();
  __u64 bytes = 0, packets = 0;
  int report = 1;
  if (agg != 0 && !dns) {
    struct udp_val *v = bpf_map_lookup_elem(&udp_flows, &k);
    if (!v) {
      struct udp_val nv = { .bytes = 0, .packets = 0, .last_report_ns = now };
      bpf_map_update_elem(&udp_flows, &k, &nv, BPF_ANY);
      bytes = skb->len;
      packets = 1;
    } else {
      __sync_fetch_and_add(&v->bytes, skb->len);
      __sync_fetch_and_add(&v->packets, 1);
      if (now - v->last_report_ns < agg) {
        report = 0;
      } else {
        // Not atomic with concurrent updates on other CPUs: a packet may land in the next report.
        bytes = v->bytes;
        packets = v->packets;
        v->bytes = 0;
        v->packets = 0;
        v->last_report_ns = now;
      }
    }
  } else {
    bytes = skb->len;
    packets = 1;
  }
  if (!report) return 1;
  struct fs_event *ev = new_event(FS_KIND_UDP);
  if (!ev) return 1;
  ev->ts_ns = now;
  ev->l4proto = IPPROTO_UDP;
  ev->flags = dir | (k.v6 ? FS_F_IPV6 : 0);
  __builtin_memcpy(ev->saddr, k.saddr, 16);
  __builtin_memcpy(ev->daddr, k.daddr, 16);
  ev->sport = k.sport;
  ev->dport = k.dport;
  ev->bytes = bytes;
  ev->packets = packets;
  ev->ifindex = skb->ifindex;
  __u64 cap = skb->len > FS_CAP_MAX ? FS_CAP_MAX : skb->len;
  // bpf_skb_load_bytes needs a length proven in [1, FS_CAP_MAX] (skb->len ≥ 1 here: an IP header was read).
  asm volatile("%[c] &= 0x1ff\n\tif %[c] <= 256 goto +1\n\t%[c] = 256\n\tif %[c] >= 1 goto +1\n\t%[c] = 1" : [c] "+r"(cap));
  if (bpf_skb_load_bytes(skb, 0, ev->pkt, cap) == 0) {
    ev->cap_len = cap;
    ev->flags |= FS_F_PACKET;
  }
  emit(skb, ev);
  return 1;
}

SEC("cgroup_skb/ingress")
int on_cgroup_ingress(struct __sk_buff *skb) { return on_udp(skb, FS_F_INGRESS); }

SEC("cgroup_skb/egress")
int on_cgroup_egress(struct __sk_buff *skb) { return on_udp(skb, FS_F_EGRESS); }
