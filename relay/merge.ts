// Merges the live flows of every collector into one time-ordered stream, as Hubble Relay does
// for its peers: a min-heap on flow time, released once every active collector has delivered
// flows past that time (its watermark), or once the flow has waited maxDelay in the heap (Hubble
// Relay's sort-buffer drain timeout). Waiting is measured from arrival, not from the flow's own
// time: a collector's ring backlog (old flows, sent first when a follow starts) is then sorted
// against the other collectors' backlogs instead of being released the moment it arrives. One
// merger per follower (relay/live-fanout.ts), fed by the collectors' own GetFlows streams.
import type { LiveItem } from '../observer/live.js';
import { timestampToNs } from '../common/time.js';

interface Entry {
  key: number;
  seq: number;
  /** Arrival (ms, the merger's clock). */
  at: number;
  item: LiveItem;
}

class MinHeap {
  private a: Entry[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Entry | undefined {
    return this.a[0];
  }
  push(e: Entry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

/** A flow's time (ns), or the arrival time of anything else (ms `at`). */
function keyOf(item: LiveItem, at: number): number {
  return item.raw ? item.raw.timeNs : item.flow ? timestampToNs(item.flow.time) : at * 1e6;
}

function less(x: Entry, y: Entry): boolean {
  return x.key < y.key || (x.key === y.key && x.seq < y.seq);
}

export interface MergerOptions {
  /** A flow is released at the latest this long after it arrived. */
  maxDelayMs: number;
  /** Above this many buffered flows the oldest are released regardless of watermarks. */
  maxBuffered: number;
  tickMs: number;
  /** The clock (ms); tests pass their own. */
  now?: () => number;
}

export class TimeOrderMerger {
  private readonly heap = new MinHeap();
  private readonly watermarks = new Map<string, number>();
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly emit: (items: LiveItem[]) => void,
    private readonly opts: MergerOptions = { maxDelayMs: 1000, maxBuffered: 200_000, tickMs: 50 },
  ) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.timer ??= setInterval(() => this.release(), this.opts.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.release(Number.POSITIVE_INFINITY);
  }

  /** Items of one source, in that source's order (ascending time). */
  add(source: string, items: readonly LiveItem[]): void {
    let wm = this.watermarks.get(source) ?? 0;
    const at = this.now();
    for (const item of items) {
      const key = keyOf(item, at);
      if (key > wm) wm = key;
      this.heap.push({ key, seq: this.seq++, at, item });
    }
    this.watermarks.set(source, wm);
    if (this.heap.size > this.opts.maxBuffered) this.release();
  }

  /** One item of a source (the per-flow path: no array per flow). */
  addOne(source: string, item: LiveItem): void {
    const at = this.now();
    const key = keyOf(item, at);
    const wm = this.watermarks.get(source) ?? 0;
    if (key > wm) this.watermarks.set(source, key);
    this.heap.push({ key, seq: this.seq++, at, item });
    if (this.heap.size > this.opts.maxBuffered) this.release();
  }

  /** A source expected to deliver: until it does (or maxDelay passes) it holds back the others. */
  addSource(source: string): void {
    if (!this.watermarks.has(source)) this.watermarks.set(source, 0);
  }

  /** A source that disconnected no longer holds back the others. */
  removeSource(source: string): void {
    this.watermarks.delete(source);
  }

  get buffered(): number {
    return this.heap.size;
  }

  /** Releases what every source's watermark passed, what waited maxDelay, and any overflow. */
  release(limit = this.releaseLimit()): void {
    const out: LiveItem[] = [];
    const excess = this.heap.size - this.opts.maxBuffered;
    const waitedSince = this.now() - this.opts.maxDelayMs;
    for (let i = 0; this.heap.size > 0; i++) {
      const top = this.heap.peek()!;
      if (top.key > limit && top.at > waitedSince && i >= excess) break;
      out.push(this.heap.pop()!.item);
    }
    if (out.length > 0) this.emit(out);
  }

  /** The lowest watermark: every source has delivered flows up to it (no source: nothing). */
  private releaseLimit(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const wm of this.watermarks.values()) if (wm < min) min = wm;
    return min === Number.POSITIVE_INFINITY ? Number.NEGATIVE_INFINITY : min;
  }
}
