#!/usr/bin/env bash
# Installs what the kernel sources need (Debian bookworm): clang + libbpf headers/library to build
# the BPF probe and the perf-ring addon, bpftool to generate vmlinux.h, nftables/iptables and
# dnsmasq for the real-kernel acceptance tests; mounts bpffs and tracefs when absent.
# Idempotent and quick when everything is already there. Needs root; without root it only reports.
set -euo pipefail

PACKAGES=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool make gcc pkg-config iproute2 nftables iptables dnsmasq-base)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-kernel-toolchain: not root; skipping apt and mounts (the kernel sources will report what is missing)" >&2
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-kernel-toolchain: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs for pinned maps (Cilium pins cilium_events under /sys/fs/bpf/tc/globals).
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
  mkdir -p /sys/fs/bpf
  mount -t bpf bpf /sys/fs/bpf || echo "install-kernel-toolchain: could not mount bpffs on /sys/fs/bpf" >&2
fi
# tracefs: libbpf resolves tracepoint ids through it when attaching tracepoint programs.
if [ ! -e /sys/kernel/tracing/events ]; then
  mkdir -p /sys/kernel/tracing
  mount -t tracefs tracefs /sys/kernel/tracing || echo "install-kernel-toolchain: could not mount tracefs on /sys/kernel/tracing" >&2
fi
echo "install-kernel-toolchain: clang $(clang --version | head -1 | sed 's/.*version //;s/ .*//'), libbpf $(dpkg-query -W -f='${Version}' libbpf-dev), $(bpftool version 2>/dev/null | head -1)"
