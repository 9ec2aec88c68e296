// CPU and memory of a process from /proc (Linux): utime+stime from /proc/PID/stat, VmRSS and
// VmHWM (the kernel's peak RSS, so a spike between two samples is not missed) from
// /proc/PID/status. Sampled by the load test once a second; CPU is reported as the share of one
// core over the measured window (200% = two cores busy), RSS as max and median over the window
// and as the peak since the process started.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcSample {
  t: number;
  cpuSeconds: number;
  rssBytes: number;
  /** Peak RSS since the process started (VmHWM). */
  hwmBytes: number;
}

let clockTicks: number | undefined;
/** Kernel clock ticks per second (USER_HZ), the unit of utime/stime. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** One sample, or null when the process is gone (or /proc is not there). */
export function readProcSample(pid: number): ProcSample | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return {
      t: Date.now(),
      cpuSeconds: (utime + stime) / ticksPerSecond(),
      rssBytes: m ? Number(m[1]) * 1024 : 0,
      hwmBytes: hwm ? Number(hwm[1]) * 1024 : 0,
    };
  } catch {
    return null;
  }
}

export interface ProcUsage {
  cpu_pct: number;
  rss_mb_max: number;
  rss_mb_p50: number;
  /** Peak RSS of the whole run so far (VmHWM of the last sample: start-up and warm-up included). */
  rss_mb_peak: number;
}

/** CPU share and RSS over the samples taken in [fromMs, toMs]. */
export function summarizeUsage(samples: readonly ProcSample[], fromMs: number, toMs: number): ProcUsage {
  const w = samples.filter((s) => s.t >= fromMs && s.t <= toMs);
  const peak = round1(samples.reduce((m, s) => Math.max(m, s.hwmBytes, s.rssBytes), 0) / 2 ** 20);
  if (w.length < 2) return { cpu_pct: 0, rss_mb_max: 0, rss_mb_p50: 0, rss_mb_peak: peak };
  const a = w[0],
    b = w[w.length - 1];
  const cpu = ((b.cpuSeconds - a.cpuSeconds) / ((b.t - a.t) / 1000)) * 100;
  const rss = w.map((s) => s.rssBytes / 2 ** 20).sort((x, y) => x - y);
  return { cpu_pct: round1(cpu), rss_mb_max: round1(rss[rss.length - 1]), rss_mb_p50: round1(rss[Math.floor(rss.length / 2)]), rss_mb_peak: peak };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The thread ids a process had before its program loaded, from startup-threads.cts (its
 * `FLOWSCOPE_STARTUP_THREADS`): main and V8's platform threads. Empty when not given. */
export function parseStartupThreads(list: string | undefined): ReadonlySet<string> {
  return new Set((list ?? '').split(',').filter((t) => /^\d+$/.test(t)));
}

/** CPU seconds per thread group of a process: the main (JavaScript) thread as `main`, every
 * other thread under its name (/proc/PID/task/TID/comm), chDB's carrying ClickHouse pool names
 * (MergeMutate, BgSchPool, ThreadPool, …). Node's unnamed helpers are `node`; given the process's
 * `startup` threads, the ones among them are `v8` (V8's platform threads: GC and compiler work
 * for the JavaScript thread) and the rest stay `node` (libuv's pool, where chDB runs its calls).
 * Empty when the process is gone. */
export function readThreadCpu(pid: number, startup: ReadonlySet<string> = new Set()): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  const hz = ticksPerSecond();
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const name = Number(tid) === pid ? 'main' : comm === 'node' && startup.has(tid) ? 'v8' : comm;
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / hz);
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}

export interface ThreadUsage {
  name: string;
  cpu_pct: number;
}

/** CPU % of one core per thread group between two readThreadCpu snapshots, largest first. A
 * thread that ended between them loses its time, so the groups can sum to less than the process. */
export function threadUsage(a: Map<string, number>, b: Map<string, number>, seconds: number): ThreadUsage[] {
  const out: ThreadUsage[] = [];
  for (const [name, t] of b) {
    const pct = Math.round(((t - (a.get(name) ?? 0)) / seconds) * 1000) / 10;
    if (pct > 0) out.push({ name, cpu_pct: pct });
  }
  return out.sort((x, y) => y.cpu_pct - x.cpu_pct);
}
