// Merges the durable flows of every collector into one time-ordered live stream, as Hubble
// Relay does for its peers: a min-heap on flow time, released once every active collector has
// delivered flows past that time (its watermark), or once the flow is older than maxDelay.
import type { LiveItem } from '../observer/live.js';
import { timestampToNs } from '../common/time.js';

interface Entry {
  key: number;
  seq: number;
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

function less(x: Entry, y: Entry): boolean {
  return x.key < y.key || (x.key === y.key && x.seq < y.seq);
}

export interface MergerOptions {
  /** A flow is released at the latest this long after wall-clock time passes its timestamp. */
  maxDelayMs: number;
  /** Above this many buffered flows the oldest are released regardless of watermarks. */
  maxBuffered: number;
  tickMs: number;
}

export class TimeOrderMerger {
  private readonly heap = new MinHeap();
  private readonly watermarks = new Map<string, number>();
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly emit: (items: LiveItem[]) => void,
    private readonly opts: MergerOptions = { maxDelayMs: 1000, maxBuffered: 200_000, tickMs: 50 },
  ) {}

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
    for (const item of items) {
      const key = item.flow ? timestampToNs(item.flow.time) : Date.now() * 1e6;
      if (key > wm) wm = key;
      this.heap.push({ key, seq: this.seq++, item });
    }
    this.watermarks.set(source, wm);
    if (this.heap.size > this.opts.maxBuffered) this.release();
  }

  /** A source that disconnected no longer holds back the others. */
  removeSource(source: string): void {
    this.watermarks.delete(source);
  }

  get buffered(): number {
    return this.heap.size;
  }

  release(limit = this.releaseLimit()): void {
    const out: LiveItem[] = [];
    const excess = this.heap.size - this.opts.maxBuffered;
    for (let i = 0; this.heap.size > 0; i++) {
      const top = this.heap.peek()!;
      if (top.key > limit && i >= excess) break;
      out.push(this.heap.pop()!.item);
    }
    if (out.length > 0) this.emit(out);
  }

  private releaseLimit(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const wm of this.watermarks.values()) if (wm < min) min = wm;
    const floor = (Date.now() - this.opts.maxDelayMs) * 1e6;
    return min === Number.POSITIVE_INFINITY ? floor : Math.max(min, floor);
  }
}
