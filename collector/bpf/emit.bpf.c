// Test and benchmark emitter: run through BPF_PROG_TEST_RUN, it writes the input bytes — a
// byte-exact Cilium monitor record — into the perf event array `cilium_events` (pinned by the
// caller), the way Cilium's ctx_event_output appends packet bytes to a sample. `repeat` in the
// test run emits the same record N times per syscall.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} cilium_events SEC(".maps");

SEC("tc")
int emit_record(struct __sk_buff *skb) {
  __u64 flags = BPF_F_CURRENT_CPU | ((__u64)skb->len << 32);
  __u8 none = 0;
  bpf_perf_event_output(skb, &cilium_events, flags, &none, 0);
  return 0;
}
