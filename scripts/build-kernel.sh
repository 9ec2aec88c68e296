#!/usr/bin/env sh
# Builds the kernel sources at `npm install` (and `npm run build:kernel`): the perf-ring addon
# (node-gyp, via npm so the local node headers are used) and the BPF objects (clang, with a
# vmlinux.h generated from the running kernel's BTF). Never fails the install: when something is
# missing it writes the reason to build/kernel-unavailable.txt, which the collector reports.
cd "$(dirname "$0")/.." || exit 0
mkdir -p build
REASON_FILE=build/kernel-unavailable.txt
rm -f "$REASON_FILE"
unavailable() { mkdir -p build; echo "$1" > "$REASON_FILE"; echo "flowscope: kernel sources unavailable: $1 (run scripts/install-kernel-toolchain.sh as root, then npm run build:kernel)" >&2; exit 0; }

[ "$(uname -s)" = Linux ] || unavailable "not Linux"
[ -f /usr/include/bpf/libbpf.h ] || unavailable "libbpf headers missing (Debian package libbpf-dev)"
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || unavailable "no C compiler (gcc)"
command -v node-gyp >/dev/null 2>&1 || unavailable "node-gyp not on PATH (build through npm: npm run build:kernel)"
# node-gyp rebuild empties build/, so its log goes beside it first.
node-gyp rebuild >.node-gyp.log 2>&1 || { mkdir -p build; mv .node-gyp.log build/node-gyp.log; unavailable "addon build failed, see build/node-gyp.log"; }
mv .node-gyp.log build/node-gyp.log
mkdir -p build/bpf

command -v clang >/dev/null 2>&1 || unavailable "clang missing (Debian package clang)"
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || unavailable "bpftool missing (Debian package bpftool)"
[ -r /sys/kernel/btf/vmlinux ] || unavailable "/sys/kernel/btf/vmlinux missing (kernel without BTF)"
"$BPFTOOL" btf dump file /sys/kernel/btf/vmlinux format c > build/bpf/vmlinux.h 2>build/bpf/bpftool.log || unavailable "bpftool could not dump kernel BTF, see build/bpf/bpftool.log"
for src in collector/bpf/*.bpf.c; do
  out="build/bpf/$(basename "$src" .c).o"
  clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ibuild/bpf -c "$src" -o "$out" 2>build/bpf/clang.log || unavailable "clang failed on $src, see build/bpf/clang.log"
done
echo "flowscope: kernel sources built (addon + $(ls build/bpf/*.bpf.o | wc -l) BPF objects)" >&2
