// What the kernel sources need from the node, checked up front so an unusable source is
// reported with its reason instead of failing half-way (the CLI exits 2 with it).
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { bpfObject, loadPerfNative } from '../perf/native.js';

const CAP_PERFMON = 38,
  CAP_BPF = 39,
  CAP_SYS_ADMIN = 21;

function effectiveCaps(): bigint {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

function hasCap(caps: bigint, bit: number): boolean {
  return (caps & (1n << BigInt(bit))) !== 0n;
}

/** Why BPF maps and perf events cannot be used by this process, or null. */
export function privilegeProblem(): string | null {
  const caps = effectiveCaps();
  if (hasCap(caps, CAP_SYS_ADMIN)) return null;
  if (hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON)) return null;
  return 'needs root, or CAP_BPF + CAP_PERFMON (+ CAP_DAC_READ_SEARCH for pinned maps)';
}

/** The first cgroup v2 mount (the unified hierarchy), or null. */
export function cgroup2Root(): string | null {
  try {
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [, mnt, type] = line.split(' ');
      if (type === 'cgroup2') return mnt;
    }
  } catch {
    /* no /proc: not Linux */
  }
  return null;
}

export function tracefsMounted(): boolean {
  return existsSync('/sys/kernel/tracing/events') || existsSync('/sys/kernel/debug/tracing/events');
}

/** Reason the `cilium` source cannot read `path`, or null when it can. */
export function ciliumUnavailable(path: string): string | null {
  const n = loadPerfNative();
  if (!n.ok) return n.reason;
  const priv = privilegeProblem();
  if (priv) return priv;
  if (!existsSync(path)) return `${path} does not exist (is Cilium running on this node, and bpffs mounted at /sys/fs/bpf?)`;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return `${path} is not readable`;
  }
  return null;
}

/** Reason the `kernel` source cannot run, or null when it can. */
export function kernelUnavailable(): string | null {
  const n = loadPerfNative();
  if (!n.ok) return n.reason;
  const obj = bpfObject('probe');
  if (!obj.ok) return obj.reason;
  const priv = privilegeProblem();
  if (priv) return priv;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel has no BTF (/sys/kernel/btf/vmlinux): drop reasons cannot be named';
  if (!tracefsMounted()) return 'tracefs is not mounted at /sys/kernel/tracing (mount -t tracefs tracefs /sys/kernel/tracing)';
  if (!cgroup2Root()) return 'no cgroup v2 hierarchy mounted (UDP flows are read from its root)';
  return null;
}
